"""PyTorch peer of mor-bench's TrainingRun: the same random LLaMA-shaped model and step, in eager PyTorch.

2 layers at LLaMA-2-7B width (hidden 4096, intermediate 11008, 32 heads), vocab 32000, T = 512, batch 1;
MoR (N = 8, r = 8, alpha = 32) on gate_proj/up_proj/down_proj in its expanded form (a rank-N*r product),
everything else frozen; gradient clipping and AdamW on the adapters. Prints the median forward pass (loss
only, no autograd), the median training step (forward, backward, clipping, AdamW), the median of the
per-round ratios, tokens per second and the speed of the [512,4096]x[4096,11008] product, all measured in
the same interleaved rounds.

    python3 mor-bench/peer/pytorch_training_step.py [rounds]     (needs torch; 2 threads)
"""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HIDDEN, INTERMEDIATE, HEADS, HEAD_DIM, VOCAB, T, LAYERS = 4096, 11008, 32, 128, 32000, 512, 2
N, R, ALPHA = 8, 8, 32.0
SCALING = ALPHA / R


def frozen(*shape):
    return nn.Parameter(torch.randn(*shape) * 0.02, requires_grad=False)


class MoR(nn.Module):
    """y = W x + s * sum_i g_i(x) * Omega_B[i] (.) B (Omega_A[i] (.) A x), as c @ M^T with c [T, N*r]."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = frozen(d_out, d_in)                                        # [d_out, d_in]
        self.lora_A = nn.Parameter(torch.randn(R, d_in) / math.sqrt(d_in))       # [r, d_in]
        # [d_out, r]; not 0 as in a fresh adapter, so that every adapter weight gets a nonzero gradient
        self.lora_B = nn.Parameter(torch.full((d_out, R), 1e-3))
        self.omega_A = nn.Parameter(torch.ones(N, R))                            # [N, r]
        self.omega_B = nn.Parameter(torch.ones(N, d_out))                        # [N, d_out]
        self.router = nn.Parameter(torch.randn(N, d_in) / math.sqrt(d_in))      # [N, d_in]

    def forward(self, x):                                                        # x [T, d_in]
        h = F.linear(x, self.lora_A)                                             # [T, r]
        g = torch.softmax(F.linear(x, self.router), -1)                          # [T, N]
        c = (g.unsqueeze(2) * (SCALING * self.omega_A).unsqueeze(0) * h.unsqueeze(1)).reshape(-1, N * R)
        m_t = (self.omega_B.unsqueeze(1) * self.lora_B.t().unsqueeze(0)).reshape(N * R, -1)  # [N*r, d_out]
        return F.linear(x, self.weight) + c @ m_t                                # [T, d_out]


class RmsNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(HIDDEN), requires_grad=False)

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rotate_half(x):
    return torch.cat([-x[..., HEAD_DIM // 2:], x[..., :HEAD_DIM // 2]], -1)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (frozen(HIDDEN, HIDDEN) for _ in range(4))
        self.input_norm, self.post_norm = RmsNorm(), RmsNorm()
        self.gate, self.up, self.down = MoR(HIDDEN, INTERMEDIATE), MoR(HIDDEN, INTERMEDIATE), MoR(INTERMEDIATE, HIDDEN)

    def forward(self, x, cos, sin, mask):                                        # x [T, hidden]
        h = self.input_norm(x)
        q, k, v = (F.linear(h, w).view(T, HEADS, HEAD_DIM).transpose(0, 1) for w in (self.q, self.k, self.v))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin   # [heads, T, head_dim]
        scores = q @ k.transpose(1, 2) / math.sqrt(HEAD_DIM) + mask              # [heads, T, T]
        a = torch.softmax(scores, -1) @ v
        x = x + F.linear(a.transpose(0, 1).reshape(T, HIDDEN), self.o)
        h = self.post_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = frozen(VOCAB, HIDDEN)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.norm = RmsNorm()
        self.lm_head = frozen(VOCAB, HIDDEN)

    def forward(self, ids, cos, sin, mask):
        x = self.embed[ids]
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        logits = F.linear(self.norm(x), self.lm_head)                            # [T, vocab]
        return F.cross_entropy(logits[:-1], ids[1:])


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = Model()
    inv = 1.0 / (10000 ** (torch.arange(0, HEAD_DIM, 2).float() / HEAD_DIM))
    angles = torch.outer(torch.arange(T).float(), inv)
    angles = torch.cat([angles, angles], -1)                                      # [T, head_dim]
    cos, sin = angles.cos(), angles.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    ids = torch.randint(0, VOCAB, (T,))
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=2e-4)
    x, w = torch.randn(T, HIDDEN), torch.randn(INTERMEDIATE, HIDDEN)

    def forward():
        with torch.no_grad():
            model(ids, cos, sin, mask)

    def step():
        model(ids, cos, sin, mask).backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)

    def gemm():
        with torch.no_grad():
            F.linear(x, w)

    forward()
    step()
    times = {"forward": [], "step": [], "gemm": []}
    for _ in range(rounds):
        for name, run in (("forward", forward), ("step", step), ("gemm", gemm)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)

    def median(a):
        return sorted(a)[len(a) // 2]

    ratio = median([s / f for s, f in zip(times["step"], times["forward"])])
    print("torch %s (%s), %d threads, %d rounds" % (torch.__version__,
          "MKL" if torch.backends.mkl.is_available() else "no MKL", torch.get_num_threads(), rounds))
    print("forward %.2f s  step %.2f s  step/forward %.2f  tokens/s %.1f  GEMM [512,4096]x[4096,11008] %.0f GFLOP/s"
          % (median(times["forward"]), median(times["step"]), ratio, T / median(times["step"]),
             2 * T * HIDDEN * INTERMEDIATE / 1e9 / median(times["gemm"])))


if __name__ == "__main__":
    main()
