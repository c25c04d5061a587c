package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
                assertEquals(5, r.size(), "the embedding and 4 blocks");
                for (Diagnostics.ShortcutRatio x : r.subList(1, 5)) {
                    assertEquals(x.slice(), x.full(), 1e-9, "a plain model has one width");
                    assertTrue(x.slice() > 0 && x.slice() < 1, "residual branches grow the stream: " + x);
                }
                assertEquals(1.0, r.get(4).depth());
            }
            ModelConfig steps = plain.withStepsRecipe();
            try (LanguageModel model = ReferenceParityTest.randomModel(steps, new ReferenceKernels(), 2)) {
                int before = m.getManagedArrays().size();
                List<Diagnostics.ShortcutRatio> r = Diagnostics.shortcutRatios(model, tokens);
                assertEquals(before, m.getManagedArrays().size(), "diagnostics must free their arrays");
                assertEquals(9, r.size());
                assertEquals(List.of(0, 0, 0, 0, 0, 1, 1, 2, 2),
                        r.stream().map(Diagnostics.ShortcutRatio::step).toList());
                assertNotEquals(r.get(1).slice(), r.get(1).full(), 1e-6);
                assertEquals(r.get(8).slice(), r.get(8).full(), 1e-9, "the last step works at full width");
            }
        }
    }

    /**
     * Known answers from the hidden states of the real forward pass: a probe that records z_0 and every block's
     * output is hooked into {@link LanguageModel#logits(NDArray, Steps.Probe)} (the same {@link Steps#forward} that
     * training runs); the hooked pass must give the model's logits exactly, and the ratios computed here in plain
     * Java from the recorded states must equal {@link Diagnostics#shortcutRatios}, 1 at the embedding.
     */
    @Test
    void shortcutRatioIsComputedFromTheStatesOfTheRealForwardPass() {
        ModelConfig c = ModelConfig.charTiny(65).withStepsRecipe(); // 64 x 4, 96 x 2, 128 x 2
        try (NDManager m = NDManager.newBaseManager();
             LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()))) {
            NDArray tokens = m.create(LanguageModelBehaviourTest.randomTokens(2 * 32, 65, 5), new Shape(2, 32));
            List<float[]> states = new java.util.ArrayList<>();
            List<Long> widths = new java.util.ArrayList<>();
            float[][] z0 = new float[1][];
            NDArray hooked = model.logits(tokens, new Steps.Probe() {
                @Override
                public void afterBlock(int step, int block, NDArray y, NDArray x) {
                    states.add(y.toFloatArray());
                    widths.add(y.getShape().get(2));
                    z0[0] = x.toFloatArray();
                }
            });
            assertArrayEquals(model.logits(tokens, false).toFloatArray(), hooked.toFloatArray(),
                    "the probed pass is the model's forward pass");
            List<Diagnostics.ShortcutRatio> r = Diagnostics.shortcutRatios(model, tokens);
            assertEquals(1 + c.blocks(), r.size());
            assertEquals(-1, r.get(0).block());
            assertEquals(0.0, r.get(0).depth());
            assertEquals(1.0, r.get(0).slice(), 1e-12, "z_0 against itself");
            assertEquals(1.0, r.get(0).full(), 1e-12);
            int cw = c.width();
            for (int l = 0; l < c.blocks(); l++) {
                int ci = Math.toIntExact(widths.get(l));
                float[] y = states.get(l);
                float[] zSlice = new float[y.length];
                float[] full = new float[z0[0].length];
                for (int p = 0; p < y.length / ci; p++) { // position p of B * T, channels 0 .. C_i of z_0
                    for (int ch = 0; ch < ci; ch++) {
                        zSlice[p * ci + ch] = z0[0][p * cw + ch];
                    }
                    for (int ch = 0; ch < cw; ch++) {
                        full[p * cw + ch] = ch < ci ? y[p * ci + ch] : z0[0][p * cw + ch];
                    }
                }
                Diagnostics.ShortcutRatio x = r.get(l + 1);
                assertEquals(std(zSlice) / std(y), x.slice(), 1e-5, "slice ratio after block " + l);
                assertEquals(std(z0[0]) / std(full), x.full(), 1e-5, "full-width ratio after block " + l);
                assertEquals((l + 1.0) / c.blocks(), x.depth(), 1e-12);
            }
        }
    }

    private static double std(float[] a) {
        double mean = 0;
        for (float v : a) {
            mean += v;
        }
        mean /= a.length;
        double ss = 0;
        for (float v : a) {
            ss += (v - mean) * (v - mean);
        }
        return Math.sqrt(ss / a.length);
    }

    /**
     * In a plain (1-step) model no channel is special: relabelling the residual channels (every matrix that reads or
     * writes the residual stream permuted alike, attention heads untouched) gives the same function, and masking the
     * first k channels of the original equals masking the last k of the model with the channels reversed. A StepsNet
     * has no such symmetry (its first channels are the slow path).
     */
    @Test
    void maskingProbeTreatsNoChannelOfAPlainModelSpecially() {
        ModelConfig c = ModelConfig.charTiny(65);
        int w = c.width();
        try (NDManager m = NDManager.newBaseManager();
             LanguageModel model = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 7);
             LanguageModel reversed = LanguageModel.withValues(c, model.runtime(),
                     (name, shape) -> reverseResidual(name, shape, model.parameters().get(name).toFloatArray(), w))) {
            NDArray x = m.create(LanguageModelBehaviourTest.randomTokens(2 * 32, 65, 1), new Shape(2, 32));
            NDArray y = m.create(LanguageModelBehaviourTest.randomTokens(2 * 32, 65, 2), new Shape(2, 32));
            assertEquals(model.loss(x, y, false).getFloat(), reversed.loss(x, y, false).getFloat(), 1e-4,
                    "relabelling channels keeps the function");
            for (int k : new int[] {16, 32, 64}) {
                double first = Diagnostics.maskedChannelLoss(model, x, y, k, true);
                assertEquals(first, Diagnostics.maskedChannelLoss(reversed, x, y, k, false), 1e-4, "k = " + k);
                assertEquals(Diagnostics.maskedChannelLoss(model, x, y, k, false),
                        Diagnostics.maskedChannelLoss(reversed, x, y, k, true), 1e-4, "k = " + k);
            }
        }
    }

    /** The parameter with residual channel i renamed w - 1 - i (rows (out) or columns (in) on the residual side). */
    private static float[] reverseResidual(String name, Shape shape, float[] v, int w) {
        boolean rows = name.endsWith("attn.proj.weight") || name.endsWith("mlp.proj.weight");
        boolean vector = shape.dimension() == 1 && !name.endsWith("attn.qkv.bias") && !name.endsWith("mlp.fc.bias");
        boolean columns = shape.dimension() == 2 && !rows; // wte, wpe, lm_head, qkv, fc read the residual stream
        float[] out = v.clone();
        int r = Math.toIntExact(shape.get(0));
        if (vector && r == w) {
            for (int i = 0; i < w; i++) {
                out[i] = v[w - 1 - i];
            }
        } else if (columns) {
            int cols = Math.toIntExact(shape.get(1));
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < cols; j++) {
                    out[i * cols + j] = v[i * cols + (cols - 1 - j)];
                }
            }
        } else if (rows) {
            int cols = Math.toIntExact(shape.get(1));
            for (int i = 0; i < r; i++) {
                System.arraycopy(v, (r - 1 - i) * cols, out, i * cols, cols);
            }
        }
        return out;
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
