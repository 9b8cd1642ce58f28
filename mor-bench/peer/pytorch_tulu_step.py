"""PyTorch peer of mor-bench's TuluTrainingRun: the same Tulu-shaped examples, padded as transformers pads them.

Reads the workload TuluTrainingRun writes (--workload FILE): the examples (input ids and labels), the model's
shape, and the example indices of each batch of the padded order (or the group-by-length one). Each batch is
right-padded to its longest example as DataCollatorForSeq2Seq(padding="longest") does (input id 0, attention 0,
label -100); attention is causal with the padded keys masked (the float32 minimum, as transformers adds it),
positions 0..T-1 in every row; the loss is transformers' causal-LM loss (shift by one, mean cross-entropy over
the labels that are not -100). The model is pytorch_training_step.py's, batched: random frozen LLaMA layers,
MoR (N = 8, r = 8, alpha = 32) on gate_proj/up_proj/down_proj in the expanded form, gradient clipping at 1.0 and
AdamW on the adapters. After --warmup untimed steps, each batch is trained on once, timed (timed step r runs batch
(warmup + r) mod n, as TuluTrainingRun does). Prints real (non-padding) tokens per second: the real tokens of the
timed steps over their summed time.

    java -cp mor-bench/target/benchmarks.jar dev.mor4j.bench.TuluTrainingRun --workload-only \
        --workload bench-results/tulu-workload.json
    python3 mor-bench/peer/pytorch_tulu_step.py bench-results/tulu-workload.json [--batches padded|group-by-length]
        [--warmup 1] [--threads 2] [--out FILE.json]          (needs torch)
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

N, R, ALPHA = 8, 8, 32.0
SCALING = ALPHA / R


def frozen(*shape):
    return nn.Parameter(torch.randn(*shape) * 0.02, requires_grad=False)


class MoR(nn.Module):
    """y = W x + s * sum_i g_i(x) * Omega_B[i] (.) B (Omega_A[i] (.) A x), as c @ M^T with c [..., N*r]."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = frozen(d_out, d_in)                                        # [d_out, d_in]
        self.lora_A = nn.Parameter(torch.randn(R, d_in) / math.sqrt(d_in))       # [r, d_in]
        self.lora_B = nn.Parameter(torch.full((d_out, R), 1e-3))                 # [d_out, r]
        self.omega_A = nn.Parameter(torch.ones(N, R))                            # [N, r]
        self.omega_B = nn.Parameter(torch.ones(N, d_out))                        # [N, d_out]
        self.router = nn.Parameter(torch.randn(N, d_in) / math.sqrt(d_in))      # [N, d_in]

    def forward(self, x):                                                        # x [B, T, d_in]
        h = F.linear(x, self.lora_A)                                             # [B, T, r]
        g = torch.softmax(F.linear(x, self.router), -1)                          # [B, T, N]
        c = (g.unsqueeze(-1) * (SCALING * self.omega_A) * h.unsqueeze(-2)).flatten(-2)  # [B, T, N*r]
        m_t = (self.omega_B.unsqueeze(1) * self.lora_B.t().unsqueeze(0)).reshape(N * R, -1)  # [N*r, d_out]
        return F.linear(x, self.weight) + c @ m_t                                # [B, T, d_out]


class RmsNorm(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden), requires_grad=False)

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], -1)


class Layer(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.heads, self.head_dim, hidden = m["heads"], m["head_dim"], m["hidden"]
        self.q, self.k, self.v, self.o = (frozen(hidden, hidden) for _ in range(4))
        self.input_norm, self.post_norm = RmsNorm(hidden), RmsNorm(hidden)
        self.gate, self.up = MoR(hidden, m["intermediate"]), MoR(hidden, m["intermediate"])
        self.down = MoR(m["intermediate"], hidden)

    def forward(self, x, cos, sin, bias):                                        # x [B, T, hidden]
        b, t, hidden = x.shape
        h = self.input_norm(x)
        q, k, v = (F.linear(h, w).view(b, t, self.heads, self.head_dim).transpose(1, 2)
                   for w in (self.q, self.k, self.v))                           # [B, heads, T, head_dim]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + bias       # [B, heads, T, T]
        a = torch.softmax(scores, -1) @ v                                        # [B, heads, T, head_dim]
        x = x + F.linear(a.transpose(1, 2).reshape(b, t, hidden), self.o)
        h = self.post_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.embed = frozen(m["vocab"], m["hidden"])
        self.layers = nn.ModuleList(Layer(m) for _ in range(m["layers"]))
        self.norm = RmsNorm(m["hidden"])
        self.lm_head = frozen(m["vocab"], m["hidden"])
        inv = 1.0 / (10000 ** (torch.arange(0, m["head_dim"], 2).float() / m["head_dim"]))
        self.inv_freq = inv

    def forward(self, ids, mask, labels):                                        # each [B, T]
        t = ids.shape[1]
        angles = torch.outer(torch.arange(t).float(), self.inv_freq)
        angles = torch.cat([angles, angles], -1)                                  # [T, head_dim]
        cos, sin = angles.cos(), angles.sin()
        causal = torch.ones(t, t, dtype=torch.bool).tril()                       # [T, T]
        allowed = causal.unsqueeze(0) & mask.bool().unsqueeze(1)                 # [B, T, T]
        bias = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min).unsqueeze(1)
        x = self.embed[ids]                                                      # [B, T, hidden]
        for layer in self.layers:
            x = layer(x, cos, sin, bias)
        logits = F.linear(self.norm(x), self.lm_head)                            # [B, T, vocab]
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                               ignore_index=-100)


def collate(examples):
    """Right-padded to the longest, as DataCollatorForSeq2Seq(padding="longest"): ids 0, attention 0, labels -100."""
    t = max(len(e["input_ids"]) for e in examples)
    ids = torch.zeros(len(examples), t, dtype=torch.long)
    mask = torch.zeros(len(examples), t, dtype=torch.long)
    labels = torch.full((len(examples), t), -100, dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"])
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e["labels"])
    return ids, mask, labels


def gemm_gflops():
    """GFLOP/s of one [512, 4096] x [4096, 4096] product (best of 3): tells which BLAS torch runs on."""
    a, b = torch.randn(512, 4096), torch.randn(4096, 4096)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * 512 * 4096 * 4096 / best / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("workload")
    p.add_argument("--batches", default="padded", choices=["padded", "group-by-length"])
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out")
    a = p.parse_args()
    w = json.load(open(a.workload))
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    gflops = gemm_gflops()
    if gflops < 40:
        print("warning: torch multiplies at %.1f GFLOP/s: it runs on the reference BLAS (libblas3)? Install "
              "libopenblas0-pthread so that libblas.so.3 is OpenBLAS" % gflops, file=sys.stderr)
    model = Model(w["model"])
    trainable = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=2e-4)
    batches = [collate([w["examples"][i] for i in idx]) for idx in w["batches"][a.batches]]

    def step(batch):
        model(*batch).backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)

    for r in range(a.warmup):
        step(batches[r % len(batches)])
    seconds, real, positions, rows, times = 0.0, 0, 0, 0, []
    for r in range(len(batches)):
        batch = batches[(a.warmup + r) % len(batches)]
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
        seconds += times[-1]
        real += int(batch[1].sum())
        positions += batch[0].numel()
        rows += batch[0].shape[0]
    result = {
        "torch": torch.__version__, "threads": torch.get_num_threads(), "batches": a.batches,
        "model": w["model"], "max_len": w["max_len"], "steps": len(batches), "warmup": a.warmup,
        "real_tokens": real, "positions": positions, "rows": rows, "padding_fraction": 1 - real / positions,
        "seconds": seconds, "step_seconds": times, "real_tokens_per_second": real / seconds,
        "gemm_gflops": gflops,
    }
    print("torch %s (%s), %d threads, %s batches of the workload (%d examples), %d timed steps after %d warm-up"
          % (torch.__version__, "MKL" if torch.backends.mkl.is_available() else "no MKL", torch.get_num_threads(),
             a.batches, len(w["examples"]), len(batches), a.warmup))
    print("real tokens/s %.1f  s per step %.1f  rows/step %.1f  padding %.1f%%"
          % (real / seconds, seconds / len(batches), rows / len(batches), 100.0 * (positions - real) / positions))
    print("RESULT " + json.dumps(result))
    if a.out:
        json.dump(result, open(a.out, "w"), indent=2)


if __name__ == "__main__":
    main()
