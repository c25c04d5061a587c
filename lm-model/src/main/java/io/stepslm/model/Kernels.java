package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/**
 * The few ops where a fused implementation pays: attention, norms, activations and precision casts, and the
 * optimizer's two passes over every parameter (global-norm clipping and AdamW). Two
 * implementations exist: {@code ReferenceKernels} (plain DJL NDArray ops, the oracle) and {@code TorchScriptKernels}
 * (fused libtorch ops from a TorchScript archive written by stepslm itself). Every op is differentiable and keeps
 * the autograd graph intact (the optimizer kernels run outside it). Results belong to the manager of the first
 * activation argument.
 *
 * <p>Dimension legend: B batch, nh heads, Tq query positions, Tk key positions, hs head size, C channels.
 */
public interface Kernels {

    /** Short name for logs and benchmark tables ("reference" or "fused"). */
    String name();

    /**
     * Scaled dot-product attention, softmax in FP32. q (B, nh, Tq, hs), k and v (B, nh, Tk, hs) -> (B, nh, Tq, hs).
     * With {@code causal} (requires Tq == Tk) query i sees keys 0..i; the mask never produces NaN in any precision.
     * Without it every query sees every key (one-token decoding against a KV cache).
     */
    NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal);

    /** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight, computed in FP32. */
    NDArray rmsNorm(NDArray x, NDArray weight, float eps);

    /** LayerNorm over the last axis with a weight and a bias, computed in FP32. */
    NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps);

    /** LayerNorm over the last axis with a weight and no bias, computed in FP32. */
    NDArray layerNorm(NDArray x, NDArray weight, float eps);

    /** Exact (erf) GELU, as PyTorch's default {@code F.gelu} and nanoGPT. */
    NDArray gelu(NDArray x);

    /** SiLU (swish): x * sigmoid(x), used by SwiGLU. */
    NDArray silu(NDArray x);

    /**
     * A cast that gradients flow through (DJL's own {@code toType} cuts the graph and aborts the JVM on BF16).
     * {@code type} is FLOAT32, FLOAT16 or BFLOAT16; no DJL call may ever be given a BF16 tensor's dtype.
     */
    NDArray cast(NDArray x, DataType type);

    /**
     * {@link #attention(NDArray, NDArray, NDArray, boolean)} computed in {@code precision}: FP32 q, k, v in, FP32 out;
     * the fused kernels cast inside the archive so DJL never holds an FP16/BF16 tensor. Reference: FP32 only.
     */
    NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal, Precision precision);

    /**
     * x @ weight^T in {@code precision} with FP32 in and out and gradients to the FP32 master weight (autocast
     * style). x (..., Cin), weight (Cout, Cin) -> (..., Cout). Reference: FP32 only.
     */
    NDArray linear(NDArray x, NDArray weight, Precision precision);

    /** As {@link #linear(NDArray, NDArray, Precision)} plus a bias (Cout), added in FP32. */
    NDArray linear(NDArray x, NDArray weight, NDArray bias, Precision precision);

    /**
     * Global-norm gradient clipping as PyTorch's {@code clip_grad_norm_}: all gradients together are one vector;
     * when {@code maxNorm > 0} and its L2 norm is finite and above {@code maxNorm}, every gradient is scaled in place
     * by {@code maxNorm / (norm + 1e-6)} (DJL's {@code optClipGrad} clamps elements instead, which turns the update).
     * Returns the norm before clipping: NaN or infinite when any element is, and then nothing is scaled.
     */
    double clipGradNorm(List<NDArray> grads, double maxNorm);

    /**
     * One AdamW update (Loshchilov and Hutter 2019, PyTorch's {@code torch.optim.AdamW} rule) of every weight in
     * place, with its moments {@code m}, {@code v} updated in place and {@code step} = t, counted from 1:
     * <pre>
     *   p <- p (1 - lr wd);   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
     *   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
     * </pre>
     * Outside autograd; the gradients are read only.
     */
    void adamw(List<NDArray> weights, List<NDArray> grads, List<NDArray> m, List<NDArray> v, long step, double lr,
               double beta1, double beta2, double eps, double weightDecay);
}
