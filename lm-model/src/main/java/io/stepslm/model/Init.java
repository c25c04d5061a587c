package io.stepslm.model;

import ai.djl.ndarray.types.Shape;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * All weight initialisation, in one place (GPT-2, Radford et al. 2019, section 2.3; nanoGPT's {@code _init_weights}):
 *
 * <pre>
 * tensor                                    distribution   std
 * wte.weight (real vocabulary rows)         normal         0.02
 * wte.weight (padding rows)                 zeros          -     never looked up, their logits are sliced off
 * wpe.weight, lm_head.weight                normal         0.02
 * *.attn.qkv.weight, *.mlp.fc.weight        normal         0.02
 * *.attn.proj.weight, *.mlp.proj.weight     normal         0.02 / sqrt(2 * blocks)   GPT-2's scaled residual init:
 *                                                                                    each block adds two residual
 *                                                                                    branches, so the stream's
 *                                                                                    variance stays ~constant
 * every *.bias                              zeros          -
 * norm weights (ln1, ln2, ln_f)             ones           -     unit norms
 * </pre>
 *
 * {@code blocks} counts the blocks of all steps (../shared/anchors/torch_reference.py does the same). Each tensor
 * draws from its own generator seeded by (seed, name), so adding a tensor never changes the others and the same
 * seed gives the same weights on every device and engine.
 */
final class Init {

    static final double STD = 0.02;

    private Init() {
    }

    /** The initial values of the named parameter, row-major. */
    static float[] values(String name, Shape shape, ModelConfig config, long seed) {
        int n = Math.toIntExact(shape.size());
        float[] out = new float[n];
        if (name.endsWith(".bias")) {
            return out;
        }
        if (name.startsWith("ln_f.") || name.contains(".ln1.") || name.contains(".ln2.")) {
            Arrays.fill(out, 1f);
            return out;
        }
        double std = STD;
        if (name.endsWith(".attn.proj.weight") || name.endsWith(".mlp.proj.weight")) {
            std = STD / Math.sqrt(2.0 * config.blocks());
        }
        int filled = n;
        if (name.equals("wte.weight") || name.equals("lm_head.weight")) {
            filled = config.vocabSize() * config.width(); // padding rows stay zero
        }
        SplittableRandom random = new SplittableRandom(mix(seed, name));
        for (int i = 0; i < filled; i++) {
            out[i] = (float) (random.nextGaussian() * std);
        }
        return out;
    }

    private static long mix(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ b) * 0x100000001B3L; // FNV-1a over the name: a stable 64-bit seed per tensor
        }
        return h;
    }
}
