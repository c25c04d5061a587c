package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;

import java.util.Map;

/**
 * Multi-head causal self-attention at one block's width w = nh * hs, with one fused qkv matmul (nanoGPT's
 * {@code c_attn}) and the attention itself in {@link Kernels} (reference or fused SDPA; the causal mask is a large
 * finite negative value, never -inf, so no precision turns it into NaN).
 *
 * <p>Dimension legend: B batch, T new positions, Tk cached plus new positions, nh heads, hs head size, w width.
 */
final class CausalSelfAttention {

    private final Kernels kernels;
    private final Precision precision;
    private final int heads;
    private final int headSize;
    private final NDArray qkvWeight; // (3w, w) rows: q of all heads, then k, then v
    private final NDArray qkvBias; // (3w), only with bias
    private final NDArray projWeight; // (w, w)
    private final NDArray projBias; // (w), only with bias
    private final Rotary rotary; // the identity with learned positions

    CausalSelfAttention(Map<String, NDArray> params, String prefix, int heads, ModelConfig config,
                        ModelRuntime runtime, Rotary rotary) {
        this.kernels = runtime.kernels();
        this.precision = runtime.precision();
        this.heads = heads;
        this.headSize = config.headSize();
        this.qkvWeight = params.get(prefix + ".qkv.weight");
        this.projWeight = params.get(prefix + ".proj.weight");
        this.qkvBias = config.bias() ? params.get(prefix + ".qkv.bias") : null;
        this.projBias = config.bias() ? params.get(prefix + ".proj.bias") : null;
        this.rotary = rotary;
    }

    /** Full causal attention over x (B, T, w) -> (B, T, w). */
    NDArray forward(NDArray x) {
        NDList qkv = heads(x, 0);
        NDArray y = kernels.attention(qkv.get(0), qkv.get(1), qkv.get(2), true, precision); // (B, nh, T, hs)
        return merge(y, x);
    }

    /**
     * Attention of the new positions x (B, T, w) of cache rows [row, row + B), all at position p, at p .. p + T - 1
     * against every cached position; writes this block's keys and values into the cache first.
     */
    NDArray forward(NDArray x, KvCache cache, int block, int row, int pos) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDList qkv = heads(x, pos);
        NDIndex newRows = new NDIndex("{}:{}, :, {}:{}", row, row + b, pos, pos + t);
        NDIndex allRows = new NDIndex("{}:{}, :, :{}", row, row + b, pos + t);
        cache.keys(block).set(newRows, qkv.get(1)); // in place (B, nh, Tmax + 1, hs)
        cache.values(block).set(newRows, qkv.get(2));
        NDArray k = cache.keys(block).get(x.getManager(), allRows); // (B, nh, Tk, hs), a view on the step's manager
        NDArray v = cache.values(block).get(x.getManager(), allRows); // (B, nh, Tk, hs)
        // prefill of an empty row: Tq == Tk, causal; one token: it sees every cached key
        boolean causal = t > 1;
        NDArray y = kernels.attention(qkv.get(0), k, v, causal, precision); // (B, nh, T, hs)
        return merge(y, x);
    }

    /** x (B, T, w) -> q, k, v, each (B, nh, T, hs), rotated when positions are rotary. */
    private NDList heads(NDArray x, long offset) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray qkv = linear(x, qkvWeight, qkvBias); // (B, T, 3w)
        qkv = qkv.reshape(b, t, 3L * heads, headSize).transpose(0, 2, 1, 3); // (B, 3nh, T, hs), a view
        NDList parts = qkv.split(3, 1); // 3 x (B, nh, T, hs), views
        return new NDList(rotary.apply(parts.get(0), offset), rotary.apply(parts.get(1), offset), parts.get(2));
    }

    /** y (B, nh, T, hs) -> output projection (B, T, w). */
    private NDArray merge(NDArray y, NDArray x) {
        NDArray merged = y.transpose(0, 2, 1, 3).reshape(x.getShape()); // (B, T, w)
        return linear(merged, projWeight, projBias); // (B, T, w)
    }

    private NDArray linear(NDArray x, NDArray w, NDArray b) {
        return b != null ? kernels.linear(x, w, b, precision) : kernels.linear(x, w, precision);
    }
}
