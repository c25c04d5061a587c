package io.stepslm.train;

import ai.djl.ndarray.types.Shape;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.Precision;
import java.util.Locale;

/**
 * The memory a training step needs, estimated before anything is built, so that a context or batch the machine
 * cannot hold is refused in a second instead of swapping (or dying) minutes into the run.
 *
 * <p>All of it is libtorch's native memory, outside the Java heap. Parameters: weights, gradients and AdamW's two
 * moments, 16 bytes each in FP32 (the master weights stay FP32 in every precision). Activations kept for the
 * backward pass, per block: {@code s b h (34 + 5 a s / h)} bytes with 2-byte values (Korthikanti et al. 2022,
 * "Reducing Activation Recomputation in Large Transformer Models", eq. 1; s context, b batch, h width, a heads),
 * doubled for FP32. Logits: FP32 logits, their softmax and its gradient. An estimate of the order of magnitude,
 * not an allocator: it is used only to refuse sizes well beyond the machine.
 */
public final class TrainingMemory {

    private TrainingMemory() {}

    /** Estimated native bytes of one micro-batch of {@code batch} sequences of {@code context} tokens. */
    public static double estimateBytes(ModelConfig m, int batch, int context, Precision precision) {
        double params = LanguageModel.parameterShapes(m).values().stream().mapToLong(Shape::size).sum();
        double s = context;
        double b = batch;
        double bytesPerValue = precision == Precision.FP32 ? 2 : 1; // the formula counts 2-byte values
        double activations = 0;
        for (int i = 0; i < m.steps().size(); i++) {
            double h = m.steps().get(i).width();
            double a = m.heads(i);
            activations += m.steps().get(i).depth() * bytesPerValue * s * b * h * (34 + 5 * a * s / h);
        }
        double logits = 3.0 * Float.BYTES * b * s * m.paddedVocabSize();
        return 16 * params + activations + logits;
    }

    /**
     * Refuses {@code config}'s batch and context for {@code model} when the estimate exceeds the memory native
     * allocations can get: {@code physicalBytes} of RAM less the {@code maxHeapBytes} the Java heap may grow to.
     * The message gives the estimate, both figures and the fix.
     */
    public static void require(ModelConfig model, TrainConfig config, long physicalBytes, long maxHeapBytes) {
        double need = estimateBytes(model, config.batchSize(), config.context(), config.precision());
        long nativeBytes = Math.max(physicalBytes - maxHeapBytes, 0);
        if (need > nativeBytes) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "a training step with --context %d and "
                    + "--batch-size %d needs about %s of native memory (estimated: parameters, optimizer state and "
                    + "activations), but this machine has %s of physical memory, %s of which the Java heap may take "
                    + "(-Xmx): lower --context or --batch-size (raise --accumulation to keep the tokens per step), "
                    + "or use a smaller --model", config.context(), config.batchSize(), human(need),
                    human(physicalBytes), human(maxHeapBytes)));
        }
    }
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
