package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stepslm.machine.CpuThreads;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Parameter counts, FLOPs per token (known answers) and the shortcut ratio. */
class DiagnosticsTest {

    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply(); // tiny models: one libtorch thread (see LanguageModelBehaviourTest)
    }

    @Test
    void parameterCountsMatchTheAllocatedArrays() {
        for (ModelConfig c : List.of(ModelConfig.charTiny(65), ModelConfig.charTiny(65).withStepsRecipe(),
                ModelFilesTest.config())) {
            try (LanguageModel m = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()))) {
                long allocated = m.parameters().values().stream().mapToLong(p -> p.getShape().size()).sum();
                assertEquals(allocated, Diagnostics.parameterCount(c, true));
                assertEquals(allocated, m.parameterCount());
                long emb = m.parameters().get("wte.weight").getShape().size()
                        + (m.parameters().containsKey("wpe.weight") ? m.parameters().get("wpe.weight").size() : 0);
                assertEquals(allocated - emb, Diagnostics.parameterCount(c, false));
            }
        }
        // char-tiny by hand: 4 blocks x (12 C^2 + 2 C) + ln_f C, C = 128, no bias
        assertEquals(4L * (12 * 128 * 128 + 2 * 128) + 128,
                Diagnostics.parameterCount(ModelConfig.charTiny(65), false));
    }

    @Test
    void flopsPerTokenKnownAnswer() {
        // 6 * (head 128*128 + 4 blocks * (4 C^2 + 8 C^2)) + 4 blocks * 12 * C * T, C = 128, T = 64
        double want = 6.0 * (128 * 128 + 4 * (12 * 128 * 128)) + 4 * 12.0 * 128 * 64;
        assertEquals(want, Diagnostics.flopsPerToken(ModelConfig.charTiny(65), 64));
        ModelConfig steps = ModelConfig.charTiny(65).withStepsRecipe(); // 64 x 4, 96 x 2, 128 x 2
        double s = 6.0 * (128 * 128 + 12 * (4 * 64 * 64 + 2 * 96 * 96 + 2 * 128 * 128))
                + 12.0 * 64 * (4 * 64 + 2 * 96 + 2 * 128);
        assertEquals(s, Diagnostics.flopsPerToken(steps, 64));
    }

    @Test
    void shortcutRatioPerBlockOverSliceAndFullWidth() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray tokens = m.create(LanguageModelBehaviourTest.randomTokens(2 * 32, 65, 1), new Shape(2, 32));
            ModelConfig plain = ModelConfig.charTiny(65);
            try (LanguageModel model = ReferenceParityTest.randomModel(plain, new ReferenceKernels(), 2)) {
                List<Diagnostics.ShortcutRatio> r = Diagnostics.shortcutRatios(model, tokens);
                assertEquals(4, r.size());
                for (Diagnostics.ShortcutRatio x : r) {
                    assertEquals(x.slice(), x.full(), 1e-9, "a plain model has one width");
                    assertTrue(x.slice() > 0 && x.slice() < 1, "residual branches grow the stream: " + x);
                }
                assertEquals(1.0, r.get(3).depth());
            }
            ModelConfig steps = plain.withStepsRecipe();
            try (LanguageModel model = ReferenceParityTest.randomModel(steps, new ReferenceKernels(), 2)) {
                int before = m.getManagedArrays().size();
                List<Diagnostics.ShortcutRatio> r = Diagnostics.shortcutRatios(model, tokens);
                assertEquals(before, m.getManagedArrays().size(), "diagnostics must free their arrays");
                assertEquals(8, r.size());
                assertEquals(List.of(0, 0, 0, 0, 1, 1, 2, 2), r.stream().map(Diagnostics.ShortcutRatio::step).toList());
                assertNotEquals(r.get(0).slice(), r.get(0).full(), 1e-6);
                assertEquals(r.get(7).slice(), r.get(7).full(), 1e-9, "the last step works at full width");
            }
        }
    }

    @Test
    void maskingAndSkippingProbes() {
        ModelConfig c = ModelConfig.charTiny(65).withStepsRecipe(); // steps 64 x 4, 96 x 2, 128 x 2
        try (NDManager m = NDManager.newBaseManager();
             LanguageModel model = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 4)) {
            NDArray x = m.create(LanguageModelBehaviourTest.randomTokens(2 * 32, 65, 1), new Shape(2, 32));
            NDArray y = m.create(LanguageModelBehaviourTest.randomTokens(2 * 32, 65, 2), new Shape(2, 32));
            double base = model.loss(x, y, false).getFloat();
            assertEquals(base, Diagnostics.maskedChannelLoss(model, x, y, 0, true), 1e-6);
            assertNotEquals(base, Diagnostics.maskedChannelLoss(model, x, y, 32, true), 1e-3);
            assertNotEquals(base, Diagnostics.maskedChannelLoss(model, x, y, 32, false), 1e-3);
            // skipping step 1 equals the model whose step 1 has no blocks, with the other weights unchanged
            ModelConfig without = c.withSteps(List.of(c.steps().get(0), new ModelConfig.Step(96, 0), c.steps().get(2)));
            try (LanguageModel cut = LanguageModel.withValues(without, model.runtime(),
                    (name, shape) -> model.parameters().get(name).toFloatArray())) {
                assertEquals(cut.loss(x, y, false).getFloat(), Diagnostics.skippedStepLoss(model, x, y, 1), 1e-6);
            }
            StepsConfigTest.assertMessage(() -> Diagnostics.skippedStepLoss(model, x, y, 3), "steps 0..2");
            int before = m.getManagedArrays().size();
            Diagnostics.maskedChannelLoss(model, x, y, 8, false);
            assertEquals(before, m.getManagedArrays().size(), "probes free their arrays");
        }
    }
}
