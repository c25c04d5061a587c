package io.stepslm.train;

import ai.djl.ndarray.types.Shape;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import java.util.Locale;

/**
 * The memory a training step needs, estimated before anything is built, so that a context or batch the machine
 * cannot hold is refused in a second instead of swapping (or dying) minutes into the run.
 *
 * <p>Parameters: weights, gradients and AdamW's two moments, 16 bytes each in FP32. Activations kept for the
 * backward pass, per block: {@code s b h (34 + 5 a s / h)} bytes with 2-byte values (Korthikanti et al. 2022,
 * "Reducing Activation Recomputation in Large Transformer Models", eq. 1; s context, b batch, h width, a heads),
 * doubled for FP32. Logits: FP32 logits, their softmax and its gradient. An estimate of the order of magnitude,
 * not an allocator: it is used only to refuse sizes well beyond the machine.
 */
public final class TrainingMemory {

    private TrainingMemory() {}

    /** Estimated bytes of one micro-batch of {@code batch} sequences of {@code context} tokens. */
    public static double estimateBytes(ModelConfig m, int batch, int context) {
        double params = LanguageModel.parameterShapes(m).values().stream().mapToLong(Shape::size).sum();
        double s = context;
        double b = batch;
        double activations = 0;
        for (int i = 0; i < m.steps().size(); i++) {
            double h = m.steps().get(i).width();
            double a = m.heads(i);
            activations += m.steps().get(i).depth() * 2 * s * b * h * (34 + 5 * a * s / h);
        }
        double logits = 3.0 * Float.BYTES * b * s * m.paddedVocabSize();
        return 16 * params + activations + logits;
    }

    /**
     * Refuses {@code config}'s batch and context for {@code model} when the estimate exceeds {@code availableBytes}
     * (the machine's physical memory), with the estimate and the fix in the message.
     */
    public static void require(ModelConfig model, TrainConfig config, long availableBytes) {
        double need = estimateBytes(model, config.batchSize(), config.context());
        if (need > availableBytes) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "a training step with --context %d and "
                    + "--batch-size %d needs about %s (estimated: parameters, optimizer state and activations), but "
                    + "this machine has %s: lower --context or --batch-size (raise --accumulation to keep the tokens "
                    + "per step)", config.context(), config.batchSize(), human(need), human(availableBytes)));
        }
    }

    /** 1536 -> "1.5 KB", 3.2e9 -> "3.0 GB" (binary units). */
    static String human(double bytes) {
        String[] units = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f bytes", bytes) : String.format(Locale.ROOT, "%.1f %s", bytes,
                units[u]);
    }
}
