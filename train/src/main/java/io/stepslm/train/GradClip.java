package io.stepslm.train;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Global-norm gradient clipping as PyTorch's {@code clip_grad_norm_}: all gradients together are treated as one
 * vector; when its L2 norm exceeds {@code maxNorm} every gradient is scaled by {@code maxNorm / (norm + 1e-6)}.
 * (DJL's {@code optClipGrad} clamps each element instead, which changes the update's direction.)
 */
public final class GradClip {

    private GradClip() {}

    /** L2 norm over every element of every gradient, accumulated in double; NaN or infinite if any element is. */
    public static double globalNorm(List<NDArray> grads) {
        double sumOfSquares = 0;
        for (NDArray g : grads) {
            try (NDArray squares = g.square(); NDArray sum = squares.sum()) { // scalar, on g's manager
                sumOfSquares += sum.getFloat();
            }
        }
        return Math.sqrt(sumOfSquares);
    }

    /** The factor gradients are multiplied by: 1 when within the limit or when clipping is off (maxNorm 0). */
    public static double coefficient(double norm, double maxNorm) {
        if (maxNorm <= 0 || !Double.isFinite(norm)) {
            return 1;
        }
        return Math.min(1, maxNorm / (norm + 1e-6)); // the 1e-6 of torch.nn.utils.clip_grad_norm_
    }

    /** Clips in place and returns the norm before clipping (for logging and the finiteness check). */
    public static double clip(List<NDArray> grads, double maxNorm) {
        double norm = globalNorm(grads);
        double c = coefficient(norm, maxNorm);
        if (c < 1) {
            for (NDArray g : grads) {
                g.muli(c); // in place on a gradient, outside autograd: a Number operand is safe here
            }
        }
        return norm;
    }
}
