package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Model statistics: parameter counts, training FLOPs per token and StepsNet's shortcut ratio
 * (docs/design.md, "StepsNet as implemented").
 */
public final class Diagnostics {

    private Diagnostics() {
    }

    /**
     * Parameters of a config, padding rows of the vocabulary included (they are allocated). Without embeddings:
     * minus the token embedding and learned positions; an untied head is counted (it is a matmul per token), as
     * the paper and nanoGPT's {@code get_num_params} count what the per-token compute touches.
     */
    public static long parameterCount(ModelConfig config, boolean withEmbeddings) {
        long n = 0;
        for (Map.Entry<String, Shape> e : LanguageModel.parameterShapes(config).entrySet()) {
            boolean embedding = e.getKey().equals("wte.weight") || e.getKey().equals("wpe.weight");
            if (withEmbeddings || !embedding) {
                n += e.getValue().size();
            }
        }
        return n;
    }

    /**
     * Forward plus backward FLOPs per token at context length T (PaLM appendix B, nanoGPT's {@code estimate_mfu}):
     * {@code 6 * N + 12 * sum over blocks of (w_l * T)}, where N counts every weight matrix multiplied per token
     * (qkv, proj, MLP of every block at its width, and the LM head over the padded vocabulary) and the second term
     * is attention's QK^T and AV at each block's width. Forward alone is a third of it.
     */
    public static double flopsPerToken(ModelConfig config, int contextLength) {
        double matmul = (double) config.paddedVocabSize() * config.width();
        double attention = 0;
        for (ModelConfig.Step s : config.steps()) {
            long w = s.width();
            long h = config.mlpHidden(s.width());
            long mlp = config.mlp() == ModelConfig.MlpKind.SWIGLU ? 3 * w * h : 2 * w * h;
            matmul += s.depth() * (4.0 * w * w + mlp);
            attention += s.depth() * 12.0 * w * contextLength;
        }
        return 6 * matmul + attention;
    }

    /**
     * The shortcut ratio {@code std(z_0) / std(z_l)} at one depth (eval mode, no gradients). z_0 is the full-width
     * embedding output. {@code slice}: z_0 and z_l over the channels the block processes (the first C_i);
     * {@code full}: over all C channels, z_l carrying the not-yet-joined slices of z_0 unchanged. For a plain model
     * both are equal. {@code block} -1 with {@code depth} 0 is the embedding itself (ratio 1 by definition); block j
     * of step i sits at depth (blocks so far) / (all blocks), so the last block is at depth 1.
     */
    public record ShortcutRatio(int step, int block, double depth, double slice, double full) {
    }

    /**
     * The ratio at the embedding and after each block, from the hidden states of the real eval forward pass
     * ({@link Steps#forward} with a probe that only reads them).
     */
    public static List<ShortcutRatio> shortcutRatios(LanguageModel model, NDArray tokens) {
        ModelConfig c = model.config();
        List<ShortcutRatio> out = new ArrayList<>();
        int total = c.blocks();
        int firstWidth = c.steps().get(0).width();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager scope = tokens.getManager().newSubManager()) {
            NDArray scoped = tokens.duplicate();
            scoped.attach(scope);
            int[] seen = {0};
            model.logits(scoped, new Steps.Probe() {
                @Override
                public NDArray embedding(NDArray x) {
                    double slice = std(x.get(new NDIndex("..., :{}", firstWidth)));
                    double full = std(x);
                    out.add(new ShortcutRatio(0, -1, 0, slice / slice, full / full));
                    return x;
                }

                @Override
                public void afterBlock(int step, int block, NDArray y, NDArray x) {
                    long ci = y.getShape().get(2);
                    double z0Slice = std(x.get(new NDIndex("..., :{}", ci)));
                    double zl = std(y);
                    double full = zl;
                    double z0Full = std(x);
                    if (ci < c.width()) {
                        full = std(y.concat(x.get(new NDIndex("..., {}:", ci)), 2));
                    }
                    seen[0]++;
                    out.add(new ShortcutRatio(step, block, (double) seen[0] / total, z0Slice / zl, z0Full / full));
                }
            });
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return out;
    }

    /**
     * Channel masking probe (paper, Table 6): the eval loss with the first or the last {@code channels} channels of
     * the embedding zeroed. In a StepsNet the first channels are the slow path through every step, so masking them
     * should hurt far more than masking the last ones.
     */
    public static double maskedChannelLoss(LanguageModel model, NDArray tokens, NDArray targets, int channels,
                                           boolean first) {
        int c = model.config().width();
        if (channels < 0 || channels > c) {
            throw new IllegalArgumentException("cannot mask " + channels + " channels of " + c + ": use 0.." + c);
        }
        float[] keep = new float[c];
        for (int i = 0; i < c; i++) {
            keep[i] = (first ? i < channels : i >= c - channels) ? 0f : 1f;
        }
        return probeLoss(model, tokens, targets, new Steps.Probe() {
            @Override
            public NDArray embedding(NDArray x) {
                return x.mul(x.getManager().create(keep)); // (B, T, C) * (C)
            }
        });
    }

    /** Per-step ablation: the eval loss with the blocks of {@code step} skipped (its slice is still concatenated). */
    public static double skippedStepLoss(LanguageModel model, NDArray tokens, NDArray targets, int step) {
        int n = model.config().steps().size();
        if (step < 0 || step >= n) {
            throw new IllegalArgumentException("step " + step + " does not exist: the model has steps 0.." + (n - 1));
        }
        return probeLoss(model, tokens, targets, new Steps.Probe() {
            @Override
            public boolean runsStep(int i) {
                return i != step;
            }
        });
    }

    private static double probeLoss(LanguageModel model, NDArray tokens, NDArray targets, Steps.Probe probe) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager scope = tokens.getManager().newSubManager()) {
            NDArray scoped = tokens.duplicate();
            scoped.attach(scope);
            return LanguageModel.crossEntropy(model.logits(scoped, probe), targets).getFloat();
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Population standard deviation of every element. */
    private static double std(NDArray a) {
        NDArray centred = a.sub(a.mean());
        return Math.sqrt(centred.square().mean().getFloat());
    }
}
