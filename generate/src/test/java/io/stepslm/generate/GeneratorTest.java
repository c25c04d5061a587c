package io.stepslm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {

    private static final int VOCAB = 50;
    private static final int CONTEXT = 16;
    private static LanguageModel plain;
    private static LanguageModel steps;

    @BeforeAll
    static void models() {
        ModelConfig config = ModelConfig.gpt(VOCAB, CONTEXT, 2, 4, 32, 0, false);
        plain = LanguageModel.create(config, ModelRuntime.cpu(new ReferenceKernels()));
        steps = LanguageModel.create(config.withStepsRecipe(), ModelRuntime.cpu(new ReferenceKernels()));
    }

    @AfterAll
    static void close() {
        plain.close();
        steps.close();
    }

    /** The oracle: greedy decoding that recomputes the full forward pass over the whole sequence each time. */
    private static int[] greedyByFullForward(LanguageModel model, int[] prompt, int n) {
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        int[] out = new int[n];
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int i = 0; i < n; i++) {
                try (NDManager step = manager.newSubManager()) {
                    int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
                    NDArray tokens = step.create(ids, new Shape(1, ids.length));
                    float[] last = model.logits(tokens, false).get(new NDIndex("0, -1")).toFloatArray();
                    out[i] = Sampler.argmax(last);
                    seq.add(out[i]);
                }
            }
        }
        return out;
    }

    @Test
    void cachedGreedyDecodingEqualsFullRecomputation() {
        int[] prompt = {3, 14, 15, 9};
        for (LanguageModel model : List.of(plain, steps)) {
            int[] expected = greedyByFullForward(model, prompt, CONTEXT - prompt.length);
            int[] got = new Generator(model).generate(prompt, SamplingConfig.greedy(expected.length), Set.of(), t -> { });
            assertArrayEquals(expected, got, model.config().isPlain() ? "plain" : "steps");
        }
    }

    @Test
    void generationContinuesPastTheContextLength() {
        List<Integer> streamed = new ArrayList<>();
        int[] got = new Generator(plain).generate(new int[] {1, 2, 3}, new SamplingConfig(3 * CONTEXT, 1.0, 0, 1.0, 5),
                Set.of(), streamed::add);
        assertEquals(3 * CONTEXT, got.length);
        assertArrayEquals(got, streamed.stream().mapToInt(Integer::intValue).toArray());
        assertTrue(Arrays.stream(got).allMatch(t -> t >= 0 && t < VOCAB));
    }

    @Test
    void sameSeedSameTextAndStopTokenEndsGeneration() {
        SamplingConfig config = new SamplingConfig(20, 1.0, 10, 0.9, 99);
        int[] a = new Generator(steps).generate(new int[] {7}, config, Set.of(), t -> { });
        int[] b = new Generator(steps).generate(new int[] {7}, config, Set.of(), t -> { });
        assertArrayEquals(a, b);
        int stop = a[2];
        int[] stopped = new Generator(steps).generate(new int[] {7}, config, Set.of(stop), t -> { });
        int first = 0;
        while (a[first] != stop) {
            first++;
        }
        assertArrayEquals(Arrays.copyOf(a, first + 1), stopped);
    }

    @Test
    void badPromptsAreRefused() {
        Generator g = new Generator(plain);
        assertThrows(IllegalArgumentException.class, () -> g.generate(new int[0], SamplingConfig.greedy(1), Set.of(), t -> { }));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.generate(new int[] {VOCAB}, SamplingConfig.greedy(1), Set.of(), t -> { }));
        assertTrue(e.getMessage().contains("vocabulary"));
    }
}
