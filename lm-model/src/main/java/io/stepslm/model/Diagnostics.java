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
 * (../shared/design/stepsnet.md, "Diagnostics worth having").
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
     * The shortcut ratio {@code std(z_0) / std(z_l)} after each block for one batch (eval mode, no gradients).
     * z_0 is the full-width embedding output. {@code slice}: z_0 and z_l over the channels the block processes
     * (the first C_i); {@code full}: over all C channels, z_l carrying the not-yet-joined slices of z_0 unchanged.
     * For a plain model both are equal.
     */
    public record ShortcutRatio(int step, int block, double depth, double slice, double full) {
    }

    public static List<ShortcutRatio> shortcutRatios(LanguageModel model, NDArray tokens) {
        ModelConfig c = model.config();
        List<ShortcutRatio> out = new ArrayList<>();
        int total = c.blocks();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager scope = tokens.getManager().newSubManager()) {
            NDArray scoped = tokens.duplicate();
            scoped.attach(scope);
            int[] seen = {0};
            model.logits(scoped, (step, block, y, x) -> {
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
            });
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return out;
    }

    /** Population standard deviation of every element. */
    private static double std(NDArray a) {
        NDArray centred = a.sub(a.mean());
        return Math.sqrt(centred.square().mean().getFloat());
    }
}
