package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.machine.CpuThreads;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Oracle test of the optimised decoding path: KV-cache logits equal the full forward pass at every position. */
class KvCacheTest {

    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply(); // tiny models: one libtorch thread (see LanguageModelBehaviourTest)
    }

    static Stream<ModelConfig> configs() {
        ModelConfig plain = ModelConfig.gpt(50, 12, 2, 4, 32, 0.0, true);
        ModelConfig steps = plain.withSteps(List.of(new ModelConfig.Step(16, 2), new ModelConfig.Step(24, 1),
                new ModelConfig.Step(32, 1)));
        ModelConfig rotary = new ModelConfig(50, 12, 32, 4, 4.0, ModelConfig.MlpKind.SWIGLU,
                ModelConfig.NormKind.RMS_NORM, ModelConfig.PositionKind.ROTARY, 0.0, false, false, steps.steps());
        return Stream.of(plain, steps, rotary);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void cachedDecodingEqualsFullForwardAtEveryPosition(ModelConfig c) {
        int b = 2;
        int t = c.contextLength();
        try (LanguageModel model = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 21);
             NDManager m = NDManager.newBaseManager();
             KvCache cache = model.newCache(b)) {
            NDArray tokens = m.create(LanguageModelBehaviourTest.randomTokens(b * t, 50, 4), new Shape(b, t));
            float[] full = model.logits(tokens, false).toFloatArray(); // (B, T, V)
            // prefill 5 positions, then one token at a time
            int prefill = 5;
            NDArray first = model.step(tokens.get(new NDIndex(":, :{}", prefill)), cache);
            assertEquals(new Shape(b, prefill, 50), first.getShape());
            NDArray[] parts = new NDArray[t - prefill + 1];
            parts[0] = first;
            for (int i = prefill; i < t; i++) {
                assertEquals(i, cache.position());
                parts[i - prefill + 1] = model.step(tokens.get(new NDIndex(":, {}:{}", i, i + 1)), cache);
            }
            float[] cached = ai.djl.ndarray.NDArrays.concat(new ai.djl.ndarray.NDList(parts), 1).toFloatArray();
            assertMaxDiff(full, cached, 2e-5);
            // a multi-token chunk appended to a non-empty cache (one position at a time inside step)
            cache.reset();
            model.step(tokens.get(new NDIndex(":, :3")), cache);
            float[] chunk = model.step(tokens.get(new NDIndex(":, 3:")), cache).toFloatArray();
            float[] fullTail = model.logits(tokens, false).get(new NDIndex(":, 3:")).toFloatArray();
            assertMaxDiff(fullTail, chunk, 2e-5);
            // the cache is full: one more token is refused with advice
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.step(tokens.get(new NDIndex(":, :1")), cache));
            assertTrue(e.getMessage().contains("reset()"), e.getMessage());
            cache.reset();
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                    () -> model.step(m.create(new int[] {3, 50}, new Shape(2, 1)), cache));
            assertTrue(range.getMessage().contains("[0, 50)"), range.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void eachBlockCachesKeysAtItsStepWidth(ModelConfig c) {
        try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()));
             KvCache cache = model.newCache(3)) {
            int block = 0;
            for (int i = 0; i < c.steps().size(); i++) {
                for (int j = 0; j < c.steps().get(i).depth(); j++, block++) {
                    assertEquals(new Shape(3, c.heads(i), c.contextLength() + 1L, c.headSize()), cache.keyShape(block));
                }
            }
        }
    }

    /**
     * Cost independent of the position, checked without a clock: every one-token step allocates the same number of
     * native arrays (the same ops on the same shapes, attention over a view of the cache) at every position.
     */
    @ParameterizedTest
    @MethodSource("configs")
    void everyDecodingStepRunsTheSameOpsAtEveryPosition(ModelConfig c) {
        try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()));
             NDManager root = NDManager.newBaseManager();
             KvCache cache = model.newCache(1)) {
            int[] perStep = new int[c.contextLength()];
            for (int p = 0; p < c.contextLength(); p++) {
                try (NDManager step = root.newSubManager()) {
                    model.step(step.create(new int[] {p % 50}, new Shape(1, 1)), cache);
                    perStep[p] = step.getManagedArrays().size();
                }
            }
            for (int p = 1; p < perStep.length; p++) {
                assertEquals(perStep[0], perStep[p], "arrays per step " + java.util.Arrays.toString(perStep));
            }
            assertEquals(0, root.getManagedArrays().size(), "nothing outlives a step");
        }
    }

    static void assertMaxDiff(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - got[i]));
        }
        assertTrue(max <= tol, "max |diff| " + max + " > " + tol);
    }
}
