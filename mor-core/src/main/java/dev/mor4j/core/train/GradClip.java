package dev.mor4j.core.train;

import java.util.Collection;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} does it: the norm is the 2-norm of
 * all gradients taken together, and when {@code max_norm / (norm + 1e-6) < 1} every gradient is multiplied by
 * that coefficient in place.
 */
public final class GradClip {

    /** PyTorch's guard against division by zero in the clipping coefficient. */
    public static final double EPS = 1e-6;

    private GradClip() {
    }

    /** The 2-norm of all arrays together: {@code sqrt(Σ ‖g‖²)}; NaN or infinite if any element is. */
    public static double totalNorm(Collection<INDArray> grads) {
        double sumSq = 0;
        for (INDArray g : grads) {
            double n = g.norm2Number().doubleValue();
            sumSq += n * n;
        }
        return Math.sqrt(sumSq);
    }

    /**
     * Scales the gradients in place so that their global norm is at most about {@code maxNorm}.
     *
     * @param totalNorm the gradients' global norm ({@link #totalNorm})
     * @param maxNorm   the threshold; ≤ 0 disables clipping
     * @return the coefficient applied (1 when not clipped)
     */
    public static double clip(Collection<INDArray> grads, double totalNorm, double maxNorm) {
        if (maxNorm <= 0) {
            return 1.0;
        }
        double coef = maxNorm / (totalNorm + EPS);
        if (coef < 1.0) {
            for (INDArray g : grads) {
                g.muli(coef);
            }
            return coef;
        }
        return 1.0;
    }
}
