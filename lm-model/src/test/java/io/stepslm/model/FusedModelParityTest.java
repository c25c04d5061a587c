package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.machine.CpuThreads;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole model on the fused kernels against the whole model on the reference kernels (same weights): logits,
 * loss and every parameter gradient in FP32, and the reduced precisions (master weights FP32, matmuls and attention
 * in BF16/FP16 inside the archive) close to FP32, loss and every parameter gradient.
 */
class FusedModelParityTest {

    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply(); // tiny models: one libtorch thread (see LanguageModelBehaviourTest)
    }

    static NDManager kernelsManager;
    static TorchScriptKernels fused;

    @BeforeAll
    static void load() {
        kernelsManager = NDManager.newBaseManager();
        fused = TorchScriptKernels.load(kernelsManager); // the archive is written by stepslm: it must load here
    }

    @AfterAll
    static void close() {
        kernelsManager.close();
    }

    @ParameterizedTest
    @MethodSource("io.stepslm.model.ReferenceParityTest#tinyConfigs")
    void fusedModelMatchesReferenceModel(ModelConfig c) {
        try (LanguageModel ref = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 31);
             LanguageModel fus = ReferenceParityTest.randomModel(c, fused, 31);
             NDManager m = NDManager.newBaseManager()) {
            NDArray x = ReferenceParityTest.toArray(m, ReferenceParityTest.tokens(1));
            NDArray y = ReferenceParityTest.toArray(m, ReferenceParityTest.tokens(2));
            Map<String, NDArray> gr = lossAndGrads(ref, x, y, m);
            Map<String, NDArray> gf = lossAndGrads(fus, x, y, m);
            KvCacheTest.assertMaxDiff(ref.logits(x, false).toFloatArray(), fus.logits(x, false).toFloatArray(), 1e-4);
            for (String k : gr.keySet()) {
                float[] a = gr.get(k).toFloatArray();
                float[] b = gf.get(k).toFloatArray();
                double scale = 0;
                for (float v : a) {
                    scale = Math.max(scale, Math.abs(v));
                }
                KvCacheTest.assertMaxDiff(a, b, 1e-4 * Math.max(1, scale));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.stepslm.model.ReferenceParityTest#tinyConfigs")
    void reducedPrecisionStaysCloseToFp32(ModelConfig c) {
        for (Precision p : new Precision[] {Precision.BF16, Precision.FP16}) {
            ModelRuntime rt = new ModelRuntime(ai.djl.Device.cpu(), fused, p, 1337);
            try (LanguageModel fp32 = ReferenceParityTest.randomModel(c, fused, 7);
                 LanguageModel low = ReferenceParityTest.randomModel(c, rt, 7);
                 NDManager m = NDManager.newBaseManager()) {
                NDArray x = ReferenceParityTest.toArray(m, ReferenceParityTest.tokens(1));
                NDArray y = ReferenceParityTest.toArray(m, ReferenceParityTest.tokens(2));
                Map<String, NDArray> g32 = lossAndGrads(fp32, x, y, m);
                float l32 = fp32.loss(x, y, false).getFloat();
                NDArray loss;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    loss = low.loss(x, y, true);
                    gc.backward(loss);
                }
                assertTrue(Math.abs(l32 - Math.log(ReferenceParityTest.VOCAB)) > 0.1, "weights far from init");
                assertEquals(l32, loss.getFloat(), 2e-2 * l32, p + " loss");
                // every gradient close to the FP32 one, relative to the tensor's largest FP32 entry: BF16 keeps 8
                // significant bits (djl-notes measured 3.5e-3 on weight gradients), FP16 11
                float tol = p == Precision.BF16 ? 6e-2f : 1e-2f;
                Map<String, NDArray> low16 = low.gradients(m);
                assertEquals(g32.keySet(), low16.keySet());
                for (Map.Entry<String, NDArray> e : low16.entrySet()) {
                    KernelsParityTest.assertClose(p + " gradient of " + e.getKey(), g32.get(e.getKey()).toFloatArray(),
                            e.getValue().toFloatArray(), tol);
                }
            }
        }
    }

    private static Map<String, NDArray> lossAndGrads(LanguageModel model, NDArray x, NDArray y, NDManager m) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(model.loss(x, y, true));
        }
        return model.gradients(m);
    }
}
