package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import io.stepslm.machine.CpuThreads;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Oracle test of the generation decoder, fused (one TorchScript call per step) and reference: every logits row it
 * returns equals the full forward pass over the row's tokens, for plain, StepsNet and LLaMA-style configs, for rows
 * at different positions stepped together, and across a context shift (the kept tokens prefilled again).
 */
class DecoderTest extends FusedKernelsFixture {

    private static final int V = 50;
    private static final double TOL = 5e-5;
    /** The rotary StepsNet config's reference path itself drifts up to 6e-5 from the full pass on this sequence. */
    private static final double LONG_TOL = 1e-4;

    DecoderTest() {
        super(3);
    }

    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply();
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (ModelConfig c : KvCacheTest.configs().toList()) {
            out.add(Arguments.of(c, "reference"));
            out.add(Arguments.of(c, "fused"));
        }
        // untied head, no bias anywhere: the placeholders of the fused layout
        ModelConfig c0 = KvCacheTest.configs().toList().get(0);
        out.add(Arguments.of(new ModelConfig(V, c0.contextLength(), 32, 4, 4.0, ModelConfig.MlpKind.GELU,
                ModelConfig.NormKind.LAYER_NORM, ModelConfig.PositionKind.LEARNED, 0, false, false, c0.steps()),
                "fused"));
        return out.stream();
    }

    private static LanguageModel model(ModelConfig c, String kernels) {
        Kernels k = kernels.equals("fused") ? fused : new ReferenceKernels();
        return ReferenceParityTest.randomModel(c, k, 21);
    }

    /** Logits (V) after the last token of {@code ids}, by the full forward pass of the reference kernels. */
    private static float[] fullForward(LanguageModel oracle, int[] ids) {
        try (NDManager m = NDManager.newBaseManager()) {
            return oracle.logits(m.create(ids, new Shape(1, ids.length)), false).get(new NDIndex("0, -1"))
                    .toFloatArray();
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyReturnedRowEqualsTheFullForwardPass(ModelConfig c, String kernels) {
        int ctx = c.contextLength();
        try (LanguageModel model = model(c, kernels);
             LanguageModel oracle = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 21);
             Decoder decoder = model.newDecoder(3)) {
            assertEquals(kernels, decoder.path());
            int[][] seqs = new int[3][];
            for (int r = 0; r < 3; r++) {
                seqs[r] = LanguageModelBehaviourTest.randomTokens(3 * ctx, V, 40 + r);
            }
            // rows start at different lengths: 1, 4 and 7 prompt tokens
            int[] len = {1, 4, 7};
            for (int r = 0; r < 3; r++) {
                float[] got = decoder.prefill(r, Arrays.copyOf(seqs[r], len[r]));
                KvCacheTest.assertMaxDiff(fullForward(oracle, Arrays.copyOf(seqs[r], len[r])), got, TOL);
            }
            int[] start = new int[3]; // first token of each row's window (moves at a context shift)
            for (int s = 0; s < 2 * ctx; s++) {
                // rows 0 and 2 step together every time, row 1 only every other step (left out in between)
                List<Integer> rows = new ArrayList<>();
                for (int r = 0; r < 3; r++) {
                    if (r != 1 || s % 2 == 0) {
                        rows.add(r);
                    }
                }
                List<Integer> stepping = new ArrayList<>();
                for (int r : rows) {
                    if (decoder.position(r) == ctx) {
                        // context shift: keep the last half of the window and prefill it again
                        decoder.reset(r);
                        start[r] = len[r] - ctx / 2;
                        float[] got = decoder.prefill(r, Arrays.copyOfRange(seqs[r], start[r], len[r]));
                        KvCacheTest.assertMaxDiff(fullForward(oracle, Arrays.copyOfRange(seqs[r], start[r], len[r])),
                                got, TOL);
                    } else {
                        stepping.add(r);
                    }
                }
                if (stepping.isEmpty()) {
                    continue;
                }
                int[] rs = stepping.stream().mapToInt(Integer::intValue).toArray();
                int[] tokens = Arrays.stream(rs).map(r -> seqs[r][len[r]]).toArray();
                float[][] got = decoder.step(rs, tokens);
                for (int i = 0; i < rs.length; i++) {
                    int r = rs[i];
                    len[r]++;
                    assertEquals(len[r] - start[r], decoder.position(r));
                    KvCacheTest.assertMaxDiff(fullForward(oracle, Arrays.copyOfRange(seqs[r], start[r], len[r])),
                            got[i], TOL);
                }
            }
            assertTrue(start[0] > 0 && start[1] > 0, "the run crossed a context shift in rows 0 and 1");
        }
    }

    /**
     * A row stepped alone takes the single-sequence step ({@code decode_one} when fused): it equals the full forward
     * pass at every position and across a context shift, and leaves the other row of the cache untouched.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void aRowSteppedAloneEqualsTheFullForwardPass(ModelConfig c, String kernels) {
        int ctx = c.contextLength();
        try (LanguageModel model = model(c, kernels);
             LanguageModel oracle = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 21);
             Decoder decoder = model.newDecoder(2)) {
            int[] other = LanguageModelBehaviourTest.randomTokens(3, V, 50);
            int[] seq = LanguageModelBehaviourTest.randomTokens(3 * ctx, V, 51);
            decoder.prefill(0, Arrays.copyOf(other, 2));
            decoder.prefill(1, Arrays.copyOf(seq, 3));
            int start = 0;
            for (int len = 3; len < 2 * ctx; len++) {
                if (decoder.position(1) == ctx) {
                    decoder.reset(1);
                    start = len - ctx / 2;
                    decoder.prefill(1, Arrays.copyOfRange(seq, start, len));
                }
                float[] got = decoder.step(new int[] {1}, new int[] {seq[len]})[0];
                KvCacheTest.assertMaxDiff(fullForward(oracle, Arrays.copyOfRange(seq, start, len + 1)), got, LONG_TOL);
            }
            assertTrue(start > 0, "the run crossed a context shift");
            float[] got = decoder.step(new int[] {0}, new int[] {other[2]})[0];
            KvCacheTest.assertMaxDiff(fullForward(oracle, other), got, TOL);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void badCallsAreRefusedInJava(ModelConfig c, String kernels) {
        try (LanguageModel model = model(c, kernels); Decoder decoder = model.newDecoder(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> decoder.prefill(0, new int[] {1, V}));
            assertTrue(e.getMessage().contains("[0, " + V + ")"), e.getMessage());
            assertEquals(0, decoder.position(0));
            decoder.prefill(0, new int[] {1});
            assertThrows(IllegalArgumentException.class, () -> decoder.step(new int[] {0, 0}, new int[] {1, 2}));
            assertThrows(IllegalArgumentException.class,
                    () -> decoder.prefill(1, new int[c.contextLength() + 1]));
        }
    }
}
