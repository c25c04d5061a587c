package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonParser;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.Precision;
import org.junit.jupiter.api.Test;

class TrainingMemoryTest {

    @Test
    void knownAnswerForOneSmallBlock() {
        ModelConfig m = ModelConfig.gpt(64, 16, 1, 2, 32, 0.0, false);
        double params = LanguageModel.parameterShapes(m).values().stream().mapToLong(Shape::size).sum();
        // s b h (34 + 5 a s / h) x 2 = 16 * 2 * 32 * (34 + 5) * 2 = 79,872; logits 3 * 4 * b s V = 24,576
        assertEquals(16 * params + 79_872 + 24_576, TrainingMemory.estimateBytes(m, 2, 16, Precision.FP32), 1e-6);
        // 2-byte activations in BF16 and FP16 (the master weights, gradients and moments stay FP32)
        assertEquals(16 * params + 79_872 / 2 + 24_576, TrainingMemory.estimateBytes(m, 2, 16, Precision.BF16), 1e-6);
        // the attention term grows with the square of the context
        double at1k = TrainingMemory.estimateBytes(m, 1, 1024, Precision.FP32) - 16 * params;
        double at2k = TrainingMemory.estimateBytes(m, 1, 2048, Precision.FP32) - 16 * params;
        assertTrue(at2k > 3.5 * at1k, at1k + " -> " + at2k);
    }

    @Test
    void aContextFarBeyondTheMachineIsRefusedWithTheEstimate() {
        ModelConfig gpt2 = ModelConfig.preset("gpt2-small", 50257).withContextLength(65536);
        TrainConfig huge = TrainConfig.tiny().withOverrides(
                JsonParser.parseString("{\"context\": 65536, \"batchSize\": 8}").getAsJsonObject(), "test");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingMemory.require(gpt2, huge, 16L << 30, 4L << 30));
        assertTrue(e.getMessage().matches("a training step with --context 65536 and --batch-size 8 needs about "
                + "[0-9.]+ TB of native memory \\(estimated.*but this machine has 16.0 GB of physical memory, 4.0 GB "
                + "of which the Java heap may take \\(-Xmx\\): lower --context or --batch-size.*"), e.getMessage());
        TrainingMemory.require(ModelConfig.charTiny(65), TrainConfig.tiny(), 16L << 30, 4L << 30); // the demo fits
        // what the Java heap may take is not there for libtorch: a step that fits in RAM but not beside the heap
        double step = TrainingMemory.estimateBytes(ModelConfig.charTiny(65), 12, 64, Precision.FP32);
        TrainingMemory.require(ModelConfig.charTiny(65), TrainConfig.shakespeareChar(), (long) step + 100, 0);
        assertThrows(IllegalArgumentException.class, () -> TrainingMemory.require(ModelConfig.charTiny(65),
                TrainConfig.shakespeareChar(), (long) step + 100, 200));
        assertEquals("1.5 KB", TrainingMemory.human(1536));
        assertEquals("512 bytes", TrainingMemory.human(512));
    }
}
