package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.machine.CpuThreads;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The DJL model against {@link JavaReferenceModel} on a tiny StepsNet (2 steps of widths 8 and 16, 2 heads at full
 * width, vocabulary 40 padded to 64): logits within a per-tensor tolerance, and every parameter's gradient against
 * central finite differences of the double-precision reference loss.
 */
class ReferenceParityTest {

    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply(); // tiny models: one libtorch thread (see LanguageModelBehaviourTest)
    }

    static final int VOCAB = 40;
    static final int B = 2;
    static final int T = 8;

    static Stream<ModelConfig> tinyConfigs() {
        List<ModelConfig.Step> steps = List.of(new ModelConfig.Step(8, 1), new ModelConfig.Step(16, 1));
        return Stream.of(
                // GPT-2 flavour: LayerNorm with bias, GELU, learned positions, tied embeddings
                new ModelConfig(VOCAB, T, 16, 2, 4.0, ModelConfig.MlpKind.GELU, ModelConfig.NormKind.LAYER_NORM,
                        ModelConfig.PositionKind.LEARNED, 0.0, true, true, steps),
                // LLaMA flavour: RMSNorm, SwiGLU, rotary positions, untied head, no bias
                new ModelConfig(VOCAB, T, 16, 2, 4.0, ModelConfig.MlpKind.SWIGLU, ModelConfig.NormKind.RMS_NORM,
                        ModelConfig.PositionKind.ROTARY, 0.0, false, false, steps),
                // nanoGPT shakespeare_char flavour: LayerNorm without bias
                new ModelConfig(VOCAB, T, 16, 2, 4.0, ModelConfig.MlpKind.GELU, ModelConfig.NormKind.LAYER_NORM,
                        ModelConfig.PositionKind.LEARNED, 0.0, false, true, steps));
    }

    /** Weights far from init (std 0.3, norm weights around 1) so every path carries signal. */
    static LanguageModel randomModel(ModelConfig c, Kernels kernels, long seed) {
        return randomModel(c, ModelRuntime.cpu(kernels), seed);
    }

    static LanguageModel randomModel(ModelConfig c, ModelRuntime runtime, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return LanguageModel.withValues(c, runtime, (name, shape) -> {
            float[] v = new float[Math.toIntExact(shape.size())];
            boolean normWeight = shape.dimension() == 1 && name.endsWith(".weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((normWeight ? 1 : 0) + r.nextGaussian() * (normWeight ? 0.2 : 0.3));
            }
            return v;
        });
    }

    static Map<String, double[]> doubles(LanguageModel model) {
        Map<String, double[]> out = new HashMap<>();
        model.parameters().forEach((name, p) -> {
            float[] f = p.toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            out.put(name, d);
        });
        return out;
    }

    static int[][] tokens(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] t = new int[B][T];
        for (int[] row : t) {
            for (int i = 0; i < T; i++) {
                row[i] = r.nextInt(VOCAB);
            }
        }
        return t;
    }

    static NDArray toArray(NDManager m, int[][] t) {
        int[] flat = new int[B * T];
        for (int b = 0; b < B; b++) {
            System.arraycopy(t[b], 0, flat, b * T, T);
        }
        return m.create(flat, new Shape(B, T));
    }

    @ParameterizedTest
    @MethodSource("tinyConfigs")
    void logitsMatchThePlainJavaForward(ModelConfig c) {
        int[][] tok = tokens(3);
        try (LanguageModel model = randomModel(c, new ReferenceKernels(), 11);
             NDManager m = NDManager.newBaseManager()) {
            float[] got = model.logits(toArray(m, tok), false).toFloatArray(); // (B, T, V)
            JavaReferenceModel ref = new JavaReferenceModel(c, doubles(model));
            double maxDiff = 0;
            double maxAbs = 0;
            for (int b = 0; b < B; b++) {
                double[][] want = ref.logits(tok[b]);
                for (int t = 0; t < T; t++) {
                    for (int v = 0; v < VOCAB; v++) {
                        double w = want[t][v];
                        maxDiff = Math.max(maxDiff, Math.abs(w - got[(b * T + t) * VOCAB + v]));
                        maxAbs = Math.max(maxAbs, Math.abs(w));
                    }
                }
            }
            assertTrue(maxAbs > 0.5, "logits too small to test anything: " + maxAbs);
            assertTrue(maxDiff < 1e-5 * Math.max(1, maxAbs) * 20, "max |logit diff| " + maxDiff + " (max |logit| "
                    + maxAbs + ")");
        }
    }

    @ParameterizedTest
    @MethodSource("tinyConfigs")
    void gradientsMatchFiniteDifferences(ModelConfig c) {
        int[][] tok = tokens(5);
        int[][] tgt = tokens(6);
        try (LanguageModel model = randomModel(c, new ReferenceKernels(), 13);
             NDManager m = NDManager.newBaseManager()) {
            NDArray loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                loss = model.loss(toArray(m, tok), toArray(m, tgt), true);
                gc.backward(loss);
            }
            Map<String, double[]> params = doubles(model);
            JavaReferenceModel ref = new JavaReferenceModel(c, params);
            assertEquals(ref.loss(tok, tgt), loss.getFloat(), 1e-5, "loss");
            Map<String, NDArray> grads = model.gradients(m);
            SplittableRandom r = new SplittableRandom(17);
            double eps = 1e-4;
            int checked = 0;
            for (Map.Entry<String, NDArray> e : grads.entrySet()) {
                String name = e.getKey();
                float[] g = e.getValue().toFloatArray();
                double[] p = params.get(name);
                int argmax = 0;
                double gmax = 0;
                for (int i = 0; i < g.length; i++) {
                    if (Math.abs(g[i]) > gmax) {
                        gmax = Math.abs(g[i]);
                        argmax = i;
                    }
                }
                assertTrue(gmax > 0, name + " has an all-zero gradient");
                int[] picks = {argmax, r.nextInt(g.length), r.nextInt(g.length), r.nextInt(g.length)};
                if (name.equals("wte.weight") || name.equals("lm_head.weight")) {
                    picks[1] = r.nextInt(VOCAB * c.width()); // padding rows get no gradient by design: see below
                }
                for (int i : picks) {
                    double keep = p[i];
                    p[i] = keep + eps;
                    double up = ref.loss(tok, tgt);
                    p[i] = keep - eps;
                    double down = ref.loss(tok, tgt);
                    p[i] = keep;
                    double fd = (up - down) / (2 * eps);
                    double tol = 2e-3 * gmax + 1e-6;
                    assertEquals(fd, g[i], tol, name + "[" + i + "] autograd " + g[i] + " vs finite difference " + fd);
                    checked++;
                }
                if (name.equals("wte.weight") || name.equals("lm_head.weight")) {
                    for (int i = VOCAB * c.width(); i < g.length; i++) {
                        assertEquals(0f, g[i], name + " padding row " + (i / c.width()) + " must get no gradient");
                    }
                }
            }
            assertTrue(checked >= 4 * model.parameters().size());
        }
    }
}
