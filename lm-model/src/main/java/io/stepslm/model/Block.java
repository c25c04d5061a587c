package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.norm.Dropout;

import java.util.Map;

/**
 * One pre-norm residual Transformer block (GPT-2): {@code x + attn(ln1(x))}, then {@code x + mlp(ln2(x))}, with
 * residual dropout on each branch while training. Parameter names below {@code prefix}: ln1.*, attn.qkv.*,
 * attn.proj.*, ln2.*, mlp.fc.*, mlp.proj.*.
 *
 * <p>Dimension legend: B batch, T positions, w block width.
 */
final class Block {

    private final Norm ln1;
    private final CausalSelfAttention attn;
    private final Norm ln2;
    private final Mlp mlp;
    private final float dropout;

    Block(Map<String, NDArray> params, String prefix, int heads, ModelConfig config, ModelRuntime runtime,
          Rotary rotary) {
        this.ln1 = new Norm(params, prefix + ".ln1", config, runtime.kernels());
        this.attn = new CausalSelfAttention(params, prefix + ".attn", heads, config, runtime, rotary);
        this.ln2 = new Norm(params, prefix + ".ln2", config, runtime.kernels());
        this.mlp = new Mlp(params, prefix + ".mlp", config, runtime);
        this.dropout = (float) config.dropout();
    }

    /** x (B, T, w) -> (B, T, w). */
    NDArray forward(NDArray x, boolean training) {
        return finish(x, attn.forward(ln1.forward(x)), training);
    }

    /** Inference on the new positions x (B, T, w) -> (B, T, w), reading and extending this block's cache. */
    NDArray decode(NDArray x, KvCache cache, int blockIndex, int row, int pos) {
        return finish(x, attn.forward(ln1.forward(x), cache, blockIndex, row, pos), false);
    }

    private NDArray finish(NDArray x, NDArray attnOut, boolean training) {
        x = x.add(dropout(attnOut, training)); // (B, T, w)
        NDArray m = mlp.forward(ln2.forward(x)); // (B, T, w)
        return x.add(dropout(m, training)); // (B, T, w)
    }

    private NDArray dropout(NDArray x, boolean training) {
        if (!training || dropout == 0f) {
            return x;
        }
        return Dropout.dropout(x, dropout, true).singletonOrThrow();
    }
}
