package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.util.List;

/**
 * The oracle: every kernel written with plain DJL NDArray ops, in FP32 only (DJL has no differentiable cast, so
 * lower precisions exist only in {@link TorchScriptKernels}). Scalars are created as arrays on the manager of the
 * first activation instead of using {@code mul/div(Number)}: those overloads free their temporary scalar before
 * backward reads it and corrupt gradients on CPU (docs/design.md, DJL trap 1).
 *
 * <p>Dimension legend: B batch, nh heads, Tq query positions, Tk key positions, hs head size, C channels.
 */
public final class ReferenceKernels implements Kernels {

    /**
     * Additive mask value for future keys: finite, so no {@code -inf - -inf} can produce NaN, and large enough
     * that exp(score + MASK - max) underflows to exactly 0 in FP32 (the reference computes in FP32 only).
     */
    static final float MASK_VALUE = -1e9f;

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal) {
        requireFp32(q, "attention q");
        Shape qs = q.getShape();
        long tq = qs.get(2);
        long tk = k.getShape().get(2);
        if (causal && tq != tk) {
            throw new IllegalArgumentException("causal attention needs as many queries as keys, got Tq=" + tq
                    + " and Tk=" + tk + ": use causal=false to decode against a KV cache");
        }
        NDManager m = q.getManager();
        NDArray scale = m.create((float) (1.0 / Math.sqrt(qs.get(3))));
        NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale); // (B, nh, Tq, Tk)
        if (causal) {
            att = att.add(causalMask(m, tq)); // (B, nh, Tq, Tk) + (Tq, Tk)
        }
        att = att.softmax(-1); // (B, nh, Tq, Tk)
        return att.matMul(v); // (B, nh, Tq, hs)
    }

    /** (T, T) additive mask: 0 where key j <= query i, {@link #MASK_VALUE} where j > i. Never needs gradients. */
    static NDArray causalMask(NDManager m, long t) {
        NDArray rows = m.arange(0f, (float) t).reshape(t, 1); // (T, 1)
        NDArray cols = m.arange(0f, (float) t).reshape(1, t); // (1, T)
        NDArray future = cols.gt(rows).toType(DataType.FLOAT32, false); // (T, T) 1 above the diagonal
        return future.mul(m.create(MASK_VALUE)); // (T, T)
    }

    @Override
    public NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        requireFp32(x, "rmsNorm x");
        NDArray ms = x.square().mean(new int[] {-1}, true); // (..., 1)
        NDArray inv = ms.add(eps).sqrt(); // (..., 1), add(Number) is safe (trap 1 concerns mul/div/pow)
        return x.div(inv).mul(weight); // (..., C)
    }

    @Override
    public NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
        return layerNorm(x, weight, eps).add(bias);
    }

    @Override
    public NDArray layerNorm(NDArray x, NDArray weight, float eps) {
        requireFp32(x, "layerNorm x");
        NDArray xc = x.sub(x.mean(new int[] {-1}, true)); // (..., C)
        NDArray var = xc.square().mean(new int[] {-1}, true); // (..., 1) biased variance, as torch.layer_norm
        return xc.div(var.add(eps).sqrt()).mul(weight); // (..., C)
    }

    @Override
    public NDArray gelu(NDArray x) {
        requireFp32(x, "gelu x");
        NDManager m = x.getManager();
        // exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)), PyTorch's F.gelu(approximate='none')
        NDArray cdf = x.div(m.create((float) Math.sqrt(2.0))).erf().add(1f).mul(m.create(0.5f));
        return x.mul(cdf);
    }

    @Override
    public NDArray silu(NDArray x) {
        requireFp32(x, "silu x");
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    @Override
    public NDArray cast(NDArray x, DataType type) {
        if (type != DataType.FLOAT32) {
            throw new IllegalArgumentException("the reference kernels compute in FP32 only (DJL's toType cuts the "
                    + "autograd graph and aborts the JVM on BF16), cannot cast to " + type
                    + ": use precision fp32, or the fused kernels for fp16/bf16");
        }
        requireFp32(x, "cast x");
        return x;
    }

    @Override
    public NDArray linear(NDArray x, NDArray weight, Precision precision) {
        requireFp32Precision(precision);
        requireFp32(x, "linear x");
        return Linear.linear(x, weight).singletonOrThrow(); // (..., Cout)
    }

    @Override
    public NDArray linear(NDArray x, NDArray weight, NDArray bias, Precision precision) {
        requireFp32Precision(precision);
        requireFp32(x, "linear x");
        return Linear.linear(x, weight, bias).singletonOrThrow(); // (..., Cout)
    }

    @Override
    public NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal, Precision precision) {
        requireFp32Precision(precision);
        return attention(q, k, v, causal);
    }

    private static void requireFp32Precision(Precision precision) {
        if (precision != Precision.FP32) {
            throw new IllegalArgumentException("the reference kernels compute in FP32 only, got precision "
                    + precision.id() + ": use precision fp32, or the fused kernels for fp16/bf16");
        }
    }

    private static void requireFp32(NDArray x, String what) {
        if (x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(what + " is " + x.getDataType()
                    + " but the reference kernels compute in FP32 only: keep activations FP32, or use the fused "
                    + "kernels for fp16/bf16");
        }
    }

    @Override
    public double clipGradNorm(List<NDArray> grads, double maxNorm) {
        double sumOfSquares = 0; // accumulated in double over per-tensor FP32 sums
        for (NDArray g : grads) {
            try (NDArray squares = g.square(); NDArray sum = squares.sum()) { // scalar, on g's manager
                sumOfSquares += sum.getFloat();
            }
        }
        double norm = Math.sqrt(sumOfSquares);
        double c = maxNorm / (norm + 1e-6); // the 1e-6 of torch.nn.utils.clip_grad_norm_
        if (maxNorm > 0 && Double.isFinite(norm) && c < 1) {
            for (NDArray g : grads) {
                g.muli(c); // in place on a gradient, outside autograd: a Number operand is safe here
            }
        }
        return norm;
    }

    @Override
    public void adamw(List<NDArray> weights, List<NDArray> grads, List<NDArray> m, List<NDArray> v, long step,
                      double lr, double beta1, double beta2, double eps, double weightDecay) {
        // DJL's Adam kernel (pytorch-native optim.cc, adamUpdate with adamw=false) computes
        //   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr' m / (sqrt(v) + eps')
        // with lr' its "learningRateBiasCorrection": lr' = lr sqrt(1 - b2^t) / (1 - b1^t) and
        // eps' = eps sqrt(1 - b2^t) make it equal to lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
        // Its own (L2, not decoupled) weight decay is 0 and its element-wise clamp is off (-1); the decoupled decay
        // is one in-place multiply. It also zeroes the parameter's own gradient, which a training loop does anyway.
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = (float) (lr * bias2Sqrt / (1 - Math.pow(beta1, step)));
        float epsilon = (float) (eps * bias2Sqrt);
        for (int i = 0; i < weights.size(); i++) {
            NDArray p = weights.get(i);
            if (weightDecay > 0) {
                // outside autograd: a Number operand is safe (trap 1 needs a backward pass)
                p.muli(1 - lr * weightDecay);
            }
            p.getNDArrayInternal().adamUpdate(new NDList(p, grads.get(i), m.get(i), v.get(i)), new NDList(p),
                    (float) lr, stepSize, 0f, 1f, -1f, (float) beta1, (float) beta2, epsilon, false, false);
        }
    }
}
