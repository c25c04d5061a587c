package io.stepslm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.stepslm.machine.CpuThreads;
import io.stepslm.model.Kernels;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.ReferenceKernels;
import io.stepslm.model.TorchScriptKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GeneratorTest {

    private static final int VOCAB = 50; // padded to 64 rows: ids 50..63 must never come out
    private static final int CONTEXT = 16;
    /** id i is the letter 'a' + i % 26: stop strings and text without a tokenizer. */
    private static final TokenDecoder LETTERS = ids -> {
        StringBuilder s = new StringBuilder();
        for (int id : ids) {
            s.append((char) ('a' + id % 26));
        }
        return s.toString();
    };
    private static NDManager root;
    private static TorchScriptKernels fused;
    private static final List<LanguageModel> MODELS = new ArrayList<>();

    @BeforeAll
    static void models() {
        new CpuThreads(1).apply();
        root = NDManager.newBaseManager();
        fused = TorchScriptKernels.load(root);
    }

    @AfterAll
    static void close() {
        MODELS.forEach(LanguageModel::close);
        fused.close();
        root.close();
    }

    static ModelConfig plain() {
        return ModelConfig.gpt(VOCAB, CONTEXT, 2, 4, 32, 0, true);
    }

    static Stream<ModelConfig> configs() {
        ModelConfig llama = new ModelConfig(VOCAB, CONTEXT, 32, 4, 4.0, ModelConfig.MlpKind.SWIGLU,
                ModelConfig.NormKind.RMS_NORM, ModelConfig.PositionKind.ROTARY, 0.0, false, true,
                plain().steps());
        return Stream.of(plain(), plain().withStepsRecipe(), llama);
    }

    static Stream<Arguments> models(boolean withReference) {
        List<Arguments> out = new ArrayList<>();
        configs().forEach(c -> {
            out.add(Arguments.of(model(c, true)));
            if (withReference) {
                out.add(Arguments.of(model(c, false)));
            }
        });
        return out.stream();
    }

    static Stream<Arguments> bothKernels() {
        return models(true);
    }

    private static LanguageModel model(ModelConfig c, boolean useFused) {
        Kernels k = useFused ? fused : new ReferenceKernels();
        LanguageModel m = LanguageModel.create(c, new ModelRuntime(ai.djl.Device.cpu(), k,
                io.stepslm.model.Precision.FP32, 7));
        MODELS.add(m);
        return m;
    }

    /**
     * The oracle: greedy decoding that recomputes the full forward pass over the visible window for every token,
     * with the generator's window rule (the prompt's last CONTEXT tokens; when the cache is full, keep the last
     * CONTEXT / 2 tokens).
     */
    private static int[] greedyByFullForward(LanguageModel model, int[] prompt, int n) {
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        int start = Math.max(0, seq.size() - CONTEXT);
        int[] out = new int[n];
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int i = 0; i < n; i++) {
                if (i > 0 && seq.size() - 1 - start == CONTEXT) {
                    start = seq.size() - CONTEXT / 2; // context shift
                }
                try (NDManager step = manager.newSubManager()) {
                    int[] ids = seq.subList(start, seq.size()).stream().mapToInt(Integer::intValue).toArray();
                    float[] last = model.logits(step.create(ids, new Shape(1, ids.length)), false)
                            .get(new NDIndex("0, -1")).toFloatArray();
                    out[i] = Sampler.argmax(last);
                    seq.add(out[i]);
                }
            }
        }
        return out;
    }

    private static Generation generate(LanguageModel model, int[] prompt, GenerationConfig config) {
        return new Generator(model, LETTERS).generate(prompt, config, TokenListener.NONE);
    }

    @ParameterizedTest
    @MethodSource("bothKernels")
    void cachedGreedyDecodingEqualsFullRecomputationAcrossContextShifts(LanguageModel model) {
        int[] prompt = {3, 14, 15, 9};
        int n = 3 * CONTEXT; // crosses several context shifts
        int[] expected = greedyByFullForward(model, prompt, n);
        Generation got = generate(model, prompt, GenerationConfig.of(n, SamplingConfig.greedy()));
        assertArrayEquals(expected, got.tokens());
        assertEquals(StopReason.LENGTH, got.stopReason());
        // a prompt longer than the context keeps its last CONTEXT tokens
        int[] longPrompt = new int[CONTEXT + 5];
        Arrays.setAll(longPrompt, i -> (i * 7) % VOCAB);
        assertArrayEquals(greedyByFullForward(model, longPrompt, 6),
                generate(model, longPrompt, GenerationConfig.of(6, SamplingConfig.greedy())).tokens());
    }

    @Test
    void temperatureZeroAndTopKOneEqualGreedy() {
        LanguageModel m = model(plain(), true);
        int[] greedy = generate(m, new int[] {5}, GenerationConfig.of(20, SamplingConfig.greedy())).tokens();
        SamplingConfig sampled = SamplingConfig.defaults().withSeed(3);
        assertArrayEquals(greedy, generate(m, new int[] {5},
                GenerationConfig.of(20, sampled.withFilters(0, 0, 0.9, 0.1))).tokens());
        assertArrayEquals(greedy, generate(m, new int[] {5},
                GenerationConfig.of(20, sampled.withFilters(1.3, 1, 1, 0))).tokens());
    }

    @ParameterizedTest
    @MethodSource("bothKernels")
    void sameSeedSameOutputAndAStopTokenEndsIt(LanguageModel model) {
        GenerationConfig config = GenerationConfig.of(30, SamplingConfig.defaults().withFilters(1.0, 10, 0.9, 0)
                .withSeed(99));
        int[] a = generate(model, new int[] {7}, config).tokens();
        assertArrayEquals(a, generate(model, new int[] {7}, config).tokens());
        int stop = a[2];
        Generation stopped = generate(model, new int[] {7}, config.withStops(Set.of(stop), List.of()));
        int first = 0;
        while (a[first] != stop) {
            first++;
        }
        assertArrayEquals(Arrays.copyOf(a, first + 1), stopped.tokens());
        assertEquals(StopReason.STOP_TOKEN, stopped.stopReason());
        assertEquals(LETTERS.decode(Arrays.copyOf(a, first)), stopped.text(), "the stop token adds no text");
    }

    @Test
    void aStopStringSpanningTokensStopsRightBeforeItAndIsNeverShown() {
        LanguageModel m = model(plain(), true);
        GenerationConfig config = GenerationConfig.of(40, SamplingConfig.defaults().withFilters(1.5, 0, 1, 0)
                .withSeed(5));
        Generation free = generate(m, new int[] {1}, config);
        String all = free.text();
        String stop = all.substring(10, 13); // three tokens
        int at = all.indexOf(stop);
        StringBuilder streamed = new StringBuilder();
        Generation g = new Generator(m, LETTERS).generate(new int[] {1},
                config.withStops(Set.of(), List.of("never-there", stop)), (t, text, lp) -> streamed.append(text));
        assertEquals(StopReason.STOP_STRING, g.stopReason());
        assertEquals(all.substring(0, at), g.text());
        assertEquals(g.text(), streamed.toString());
        assertFalse(streamed.toString().contains(stop));
        assertEquals(at + stop.length(), g.tokens().length, "it stops at the token that completes the stop string");
    }

    @ParameterizedTest
    @MethodSource("bothKernels")
    void theOutputNeverHoldsAPaddingRowId(LanguageModel model) {
        Generation g = generate(model, new int[] {0}, GenerationConfig.of(200,
                SamplingConfig.defaults().withFilters(5.0, 0, 1, 0).withSeed(1)));
        assertEquals(200, g.tokens().length);
        assertTrue(Arrays.stream(g.tokens()).allMatch(t -> t >= 0 && t < VOCAB), Arrays.toString(g.tokens()));
    }

    @ParameterizedTest
    @MethodSource("bothKernels")
    void batchedGenerationEqualsOneByOneRowForRow(LanguageModel model) {
        List<int[]> prompts = List.of(new int[] {1}, new int[] {4, 5, 6, 7, 8}, new int[] {9, 9}, new int[] {2, 3});
        List<GenerationConfig> configs = new ArrayList<>();
        SamplingConfig base = SamplingConfig.defaults().withFilters(1.0, 20, 0.95, 0.02);
        configs.add(GenerationConfig.of(2 * CONTEXT, base.withSeed(1)));
        configs.add(GenerationConfig.of(9, base.withSeed(2).withPenalties(1.3, 8, 0.2, 0.1)).withLogprobs(2));
        configs.add(GenerationConfig.of(25, SamplingConfig.greedy()));
        configs.add(GenerationConfig.of(30, base.withSeed(4).withLogitBias(Map.of(3, 2f)))
                .withStops(Set.of(11), List.of("q")));
        Generator g = new Generator(model, LETTERS);
        List<Generation> batch = g.generate(prompts, configs);
        for (int i = 0; i < prompts.size(); i++) {
            Generation alone = g.generate(prompts.get(i), configs.get(i), TokenListener.NONE);
            assertArrayEquals(alone.tokens(), batch.get(i).tokens(), "row " + i);
            assertEquals(alone.text(), batch.get(i).text(), "row " + i);
            assertEquals(alone.stopReason(), batch.get(i).stopReason(), "row " + i);
            assertEquals(alone.logprobs().size(), batch.get(i).logprobs().size());
        }
        assertEquals(9, batch.get(1).logprobs().size());
        assertEquals(2, batch.get(1).logprobs().get(0).topTokens().length);
    }

    @ParameterizedTest
    @MethodSource("bothKernels")
    void slotsJoinAndLeaveBetweenStepsAndEachGivesWhatItGivesAlone(LanguageModel model) {
        SamplingConfig base = SamplingConfig.defaults().withFilters(1.0, 0, 1, 0);
        GenerationConfig a = GenerationConfig.of(50, base.withSeed(10));
        GenerationConfig b = GenerationConfig.of(20, base.withSeed(11));
        GenerationConfig c = GenerationConfig.of(2 * CONTEXT, base.withSeed(12));
        Generator alone = new Generator(model, LETTERS);
        try (ContinuousBatch batch = new ContinuousBatch(model, LETTERS, 2)) {
            List<Integer> streamedA = new ArrayList<>();
            Slot sa = batch.join(new int[] {1, 2}, a, (t, text, lp) -> streamedA.add(t));
            batch.step();
            batch.step();
            Slot sb = batch.join(new int[] {3}, b, TokenListener.NONE);
            assertFalse(batch.hasFreeRow());
            assertThrows(IllegalStateException.class, () -> batch.join(new int[] {4}, c, TokenListener.NONE));
            for (int i = 0; i < 5; i++) {
                batch.step();
            }
            batch.release(sa); // a client leaves: its row is free at once
            assertEquals(StopReason.CANCELLED, sa.result().stopReason());
            assertEquals(8, sa.result().tokens().length);
            assertEquals(8, streamedA.size());
            Slot sc = batch.join(new int[] {4}, c, TokenListener.NONE);
            assertEquals(sa.row(), sc.row());
            while (batch.running() > 0) {
                batch.step();
            }
            assertArrayEquals(Arrays.copyOf(alone.generate(new int[] {1, 2}, a, TokenListener.NONE).tokens(), 8),
                    sa.result().tokens());
            assertArrayEquals(alone.generate(new int[] {3}, b, TokenListener.NONE).tokens(), sb.result().tokens());
            assertArrayEquals(alone.generate(new int[] {4}, c, TokenListener.NONE).tokens(), sc.result().tokens());
            assertEquals(StopReason.LENGTH, sc.result().stopReason());
        }
    }

    @Test
    void badRequestsAreRefusedWithTheValue() {
        Generator g = new Generator(model(plain(), true), LETTERS);
        GenerationConfig one = GenerationConfig.of(1, SamplingConfig.greedy());
        assertThrows(IllegalArgumentException.class, () -> g.generate(new int[0], one, TokenListener.NONE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.generate(new int[] {VOCAB}, one, TokenListener.NONE));
        assertTrue(e.getMessage().contains("vocabulary"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> g.generate(new int[] {1}, one.withStops(Set.of(VOCAB + 3), List.of()), TokenListener.NONE));
        assertThrows(IllegalArgumentException.class, () -> one.withStops(Set.of(), List.of("")));
        assertEquals(0, g.generate(new int[] {1}, one.withMaxNewTokens(0), TokenListener.NONE).tokens().length);
    }
}
