package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding (Su et al. 2021, RoFormer), in the rotate-half layout of GPT-NeoX and HuggingFace LLaMA:
 * {@code x * cos + rotate_half(x) * sin} with {@code rotate_half([x1, x2]) = [-x2, x1]}. rotate_half is one matmul
 * with a fixed signed permutation (hs, hs), which costs one native call instead of split, neg and concat.
 *
 * A model with learned positions gets the identity ({@link #of} decides), so attention never tests for absence.
 *
 * <p>Dimension legend: B batch, nh heads, T positions, hs head size.
 */
final class Rotary {

    private final boolean enabled;
    private final NDArray cos; // (Tmax, hs), rotary only
    private final NDArray sin; // (Tmax, hs), rotary only
    private final NDArray rotateHalf; // (hs, hs), rotary only

    /** The rotation of a config's positions: real for ROTARY, the identity for LEARNED. */
    static Rotary of(NDManager manager, ModelConfig config) {
        return config.positions() == ModelConfig.PositionKind.ROTARY
                ? new Rotary(manager, config.contextLength(), config.headSize())
                : new Rotary();
    }

    private Rotary() {
        this.enabled = false;
        this.cos = null;
        this.sin = null;
        this.rotateHalf = null;
    }

    private Rotary(NDManager manager, int contextLength, int headSize) {
        this.enabled = true;
        int half = headSize / 2;
        float[] c = new float[contextLength * headSize];
        float[] s = new float[contextLength * headSize];
        for (int t = 0; t < contextLength; t++) {
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(ModelConfig.ROPE_THETA, -2.0 * i / headSize);
                double angle = t * freq;
                c[t * headSize + i] = c[t * headSize + i + half] = (float) Math.cos(angle);
                s[t * headSize + i] = s[t * headSize + i + half] = (float) Math.sin(angle);
            }
        }
        float[] r = new float[headSize * headSize];
        for (int i = 0; i < half; i++) {
            r[(i + half) * headSize + i] = -1f; // out[i] = -x[i + half]
            r[i * headSize + i + half] = 1f; // out[i + half] = x[i]
        }
        this.cos = manager.create(c, new Shape(contextLength, headSize));
        this.sin = manager.create(s, new Shape(contextLength, headSize));
        this.rotateHalf = manager.create(r, new Shape(headSize, headSize));
    }

    boolean enabled() {
        return enabled;
    }

    /** cos and sin tables (Tmax, hs) of the rotation; rotary positions only (the fused decoding step reads them). */
    NDArray cos() {
        return cos;
    }

    NDArray sin() {
        return sin;
    }

    /** The signed permutation (hs, hs) with x R = rotate_half(x). */
    NDArray rotateHalf() {
        return rotateHalf;
    }

    /** x (B, nh, T, hs) at positions offset .. offset + T - 1 -> rotated, same shape, on x's manager. */
    NDArray apply(NDArray x, long offset) {
        if (!enabled) {
            return x;
        }
        long t = x.getShape().get(2);
        NDManager m = x.getManager();
        NDIndex rows = new NDIndex("{}:{}", offset, offset + t);
        NDArray cosT = cos.get(m, rows); // (T, hs)
        NDArray sinT = sin.get(m, rows); // (T, hs)
        return x.mul(cosT).add(x.matMul(rotateHalf).mul(sinT)); // (B, nh, T, hs)
    }
}
