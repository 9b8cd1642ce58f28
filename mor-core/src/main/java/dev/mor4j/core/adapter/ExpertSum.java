package dev.mor4j.core.adapter;

import dev.mor4j.core.nn.LeanProduct;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * MoR's sum over experts, {@code Δ = s · Σ_i g_i ⊙ E_i}, in each {@link MorForm}. Expert i's output is the
 * paper's {@code E_i = (Λ_B^i B)(Λ_A^i h)}: with {@code h = A·x [tokens, r]},
 * <pre>
 *   E_i[t, d] = Σ_k Ω_B[i, d] · B[d, k] · Ω_A[i, k] · h[t, k]          [tokens, d_out]
 * </pre>
 * and {@code g [tokens, N]} the router's gates. Two small tensors hold every expert's factors:
 * <ul>
 *   <li>{@code H[t, (i, k)] = Ω_A[i, k] · h[t, k]} {@code [tokens, N·r]}: the experts' inputs {@code Λ_A^i h} side by
 *       side ({@link #expertInputs});</li>
 *   <li>{@code Mᵀ[(i, k), d] = Ω_B[i, d] · B[d, k]} {@code [N·r, d_out]}: the experts' matrices
 *       {@code (Λ_B^i B)ᵀ} stacked ({@link #expertMatrices}).</li>
 * </ul>
 * so that {@code E_i = H_i · Mᵀ_i} with {@code H_i} the columns and {@code Mᵀ_i} the rows {@code i·r … i·r+r−1}.
 *
 * <p>Every form builds these with products whose backward pass is a few small products (the 0/1 matrices of
 * {@link Expansion} through {@link LeanProduct}s) and multiplies tensors only element by element at the same shape or
 * by matrix products: SameDiff M2.1's backward of a broadcasting multiplication reduces over the broadcast axes on a slow
 * generic path (tens of nanoseconds per element, about a second for a {@code [256, 8, 11008]} tensor), so no form
 * broadcasts anything of size {@code tokens × d_out}.
 * <ul>
 *   <li>{@link MorForm#EXPANDED}: {@code Δ = C · Mᵀ} with {@code C = s · (g repeated r times) ⊙ H} {@code [tokens, N·r]}
 *       (MoR as one LoRA of rank N·r).</li>
 *   <li>{@link MorForm#STACKED}, eq. 15: the experts' outputs as one tensor {@code E [tokens, N, d_out]}, computed as
 *       N products {@code H_i · Mᵀ_i} (one batched product over the experts), then weighted by the gates and summed
 *       over the experts in one batched product per token, {@code Δ[t] = (s·g[t]) [1, N] · E[t] [N, d_out]}.</li>
 *   <li>{@link MorForm#LOOP}: N expert terms {@code s·g_i ⊙ E_i = (s·g_i ⊙ H_i) · Mᵀ_i} {@code [tokens, d_out]}, each
 *       its own product, added up.</li>
 * </ul>
 */
final class ExpertSum {

    private final int experts;
    private final int r;
    private final int dOut;
    private final double scaling;
    private final DataType dataType;

    /**
     * @param experts N
     * @param r       the shared rank
     * @param dOut    the layer's output features
     * @param scaling s
     */
    ExpertSum(int experts, int r, int dOut, double scaling, DataType dataType) {
        this.experts = experts;
        this.r = r;
        this.dOut = dOut;
        this.scaling = scaling;
        this.dataType = dataType;
    }

    /**
     * Adds {@code Δ = s · Σ_i g_i ⊙ E_i} to the graph in the given form.
     *
     * @param h      {@code [tokens, r]}, A times the (dropped-out) input
     * @param g      {@code [tokens, N]}, the gates
     * @param b      {@code [d_out, r]}
     * @param omegaA {@code [N, r]}
     * @param omegaB {@code [N, d_out]}
     * @return {@code [tokens, d_out]}
     */
    SDVariable delta(MorForm form, SameDiff sd, SDVariable h, SDVariable g, SDVariable b, SDVariable omegaA,
            SDVariable omegaB) {
        return switch (form) {
            case EXPANDED -> expanded(sd, h, g, b, omegaA, omegaB);
            case STACKED -> stacked(sd, h, g, b, omegaA, omegaB);
            case LOOP -> loop(sd, h, g, b, omegaA, omegaB);
        };
    }

    /**
     * {@code Δ = C Mᵀ}: MoR as a LoRA of rank N·r, with s folded into H's factors. The gates are spread over the N·r
     * columns by a product with the constant {@code R [N, N·r]} ({@link Expansion#repeat}).
     */
    private SDVariable expanded(SameDiff sd, SDVariable h, SDVariable g, SDVariable b, SDVariable omegaA,
            SDVariable omegaB) {
        SDVariable c = gatedInputs(sd, h, g, omegaA); // [tokens, N·r]
        return sd.mmul(c, expertMatrices(sd, b, omegaB)); // [tokens, d_out]
    }

    /**
     * Paper eq. 15: {@code E [tokens, N, d_out]}, every expert's output, then the gate-weighted sum over the expert
     * axis. E is computed expert by expert ({@code [N, tokens, r] × [N, r, d_out]}, N products of the layer's own
     * shape) and read token by token; the weighted sum is a batched product whose backward pass is two batched
     * products ({@code dE[t] = w[t]ᵀ dΔ[t]}, {@code dw[t] = dΔ[t] E[t]ᵀ}), not a broadcast and a reduction.
     */
    private SDVariable stacked(SameDiff sd, SDVariable h, SDVariable g, SDVariable b, SDVariable omegaA,
            SDVariable omegaB) {
        SDVariable inputs = expertInputs(sd, h, omegaA, 1.0); // [tokens, N·r]
        SDVariable byExpert = inputs.reshape(-1, experts, r).permute(1, 0, 2); // [N, tokens, r]
        SDVariable matrices = expertMatrices(sd, b, omegaB).reshape(experts, r, dOut); // [N, r, d_out]
        SDVariable outputs = sd.mmul(byExpert, matrices); // [N, tokens, d_out]: E_i
        SDVariable stacked = outputs.permute(1, 0, 2); // [tokens, N, d_out]: E[t, i, :] = E_i[t, :]
        SDVariable weights = g.mul(scaling).reshape(-1, 1, experts); // [tokens, 1, N]
        return sd.mmul(weights, stacked).reshape(-1, dOut); // [tokens, d_out]: Σ_i s·g[t,i]·E[t,i,:]
    }

    /**
     * {@code Σ_i s·g_i ⊙ E_i}, one expert at a time: expert i's term is its own product
     * {@code (s·g_i ⊙ H_i) · Mᵀ_i} {@code [tokens, d_out]} (the gate, one number per token, multiplies the expert's
     * r-wide input instead of its d_out-wide output: the same term, without a {@code [tokens, d_out]} multiplication
     * and its backward), and the N terms are added up.
     */
    private SDVariable loop(SameDiff sd, SDVariable h, SDVariable g, SDVariable b, SDVariable omegaA,
            SDVariable omegaB) {
        SDVariable inputs = gatedInputs(sd, h, g, omegaA); // [tokens, N·r]
        SDVariable matrices = expertMatrices(sd, b, omegaB); // [N·r, d_out]
        SDVariable sum = null; // [tokens, d_out]
        for (int i = 0; i < experts; i++) {
            SDVariable ci = inputs.get(SDIndex.all(), SDIndex.interval(i * r, (i + 1) * r)); // [tokens, r]
            SDVariable mi = matrices.get(SDIndex.interval(i * r, (i + 1) * r), SDIndex.all()); // [r, d_out]
            SDVariable term = sd.mmul(ci, mi); // [tokens, d_out]: s·g_i ⊙ E_i
            sum = sum == null ? term : sum.add(term);
        }
        return sum;
    }

    /**
     * {@code C [tokens, N·r]}, {@code C[t, (i, k)] = s · g[t, i] · Ω_A[i, k] · h[t, k]}: H with s folded in, times the
     * gates spread over the N·r columns by a product with the constant {@code R [N, N·r]} ({@link Expansion#repeat}).
     */
    private SDVariable gatedInputs(SameDiff sd, SDVariable h, SDVariable g, SDVariable omegaA) {
        SDVariable scaledH = expertInputs(sd, h, omegaA, scaling); // [tokens, N·r]: s·Ω_A[i,k]·h[t,k] at (i,k)
        SDVariable gates = LeanProduct.of(sd, g, Expansion.repeat(sd, experts, r, dataType), (long) experts * r);
        return gates.mul(scaledH); // [tokens, N·r]
    }

    /**
     * {@code H [tokens, N·r]}, {@code H[t, (i, k)] = factor · Ω_A[i, k] · h[t, k]}: h placed side by side N times by a
     * product with {@code P ⊙ (factor·Ω_A)} {@code [r, N·r]} ({@link Expansion#tile}).
     *
     * @param h {@code [tokens, r]}
     */
    private SDVariable expertInputs(SameDiff sd, SDVariable h, SDVariable omegaA, double factor) {
        SDVariable omegaRow = omegaA.reshape(1, (long) experts * r); // [1, N·r]: Ω_A[i,k] at (i,k)
        if (factor != 1.0) {
            omegaRow = omegaRow.mul(factor);
        }
        SDVariable tileOmega = Expansion.tile(sd, experts, r, dataType).mul(omegaRow); // [r, N·r]
        return sd.mmul(h, tileOmega); // [tokens, N·r]
    }

    /**
     * {@code Mᵀ [N·r, d_out]}, {@code Mᵀ[(i, k), d] = Ω_B[i, d] · B[d, k]}: rows {@code i·r … i·r+r−1} are expert i's
     * matrix {@code (Λ_B^i B)ᵀ}. Built from Ω_B's rows repeated r times and Bᵀ stacked N times, both products with
     * constant 0/1 matrices ({@link Expansion#repeatRows}, {@link Expansion#tileRows}), and one same-shape product.
     */
    private SDVariable expertMatrices(SameDiff sd, SDVariable b, SDVariable omegaB) {
        // [N·r, d_out]: Ω_B[i,d] at ((i,k),d)
        SDVariable omegaBRows = LeanProduct.of(sd, Expansion.repeatRows(sd, experts, r, dataType), omegaB, dOut);
        SDVariable bT = b.permute(1, 0); // [r, d_out]
        // [N·r, d_out]: B[d,k] at ((i,k),d)
        SDVariable bRows = LeanProduct.of(sd, Expansion.tileRows(sd, experts, r, dataType), bT, dOut);
        return omegaBRows.mul(bRows); // [N·r, d_out]
    }
}
