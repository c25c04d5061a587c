package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.machine.CpuThreads;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Behaviour of the whole model: loss at init, overfitting one batch, causality, gradients, zeroing. */
class LanguageModelBehaviourTest {

    /**
     * Tiny models are all call overhead: one libtorch thread is faster, and two threads on a CPU shared with other
     * jobs spin and run several times slower.
     */
    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply();
    }

    static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    @Test
    void lossAtInitIsCloseToLnVocab() {
        ModelConfig c = ModelConfig.charTiny(65);
        try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()));
             NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(randomTokens(4 * 64, 65, 1), new Shape(4, 64));
            NDArray y = m.create(randomTokens(4 * 64, 65, 2), new Shape(4, 64));
            float loss = model.loss(x, y, false).getFloat();
            assertEquals(Math.log(65), loss, 0.05, "loss at init " + loss + " vs ln(65)");
            assertEquals(new Shape(4, 64, 65), model.logits(x, false).getShape());
            StepsConfigTest.assertMessage(() -> model.logits(m.create(new int[65], new Shape(1, 65)), false),
                    "crop the sequence to the last 64");
            StepsConfigTest.assertMessage(() -> model.logits(m.create(new float[4], new Shape(1, 4)), false),
                    "int32 or int64");
            StepsConfigTest.assertMessage(() -> model.loss(x, m.create(new int[4], new Shape(1, 4)), false),
                    "shifted left by one");
        }
    }

    @Test
    void gradientsAccumulateAndZero() {
        ModelConfig c = ModelConfig.charTiny(65).withStepsRecipe();
        try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()));
             NDManager m = NDManager.newBaseManager()) {
            model.zeroGradients(); // before any backward: must not throw
            NDArray x = m.create(randomTokens(2 * 16, 65, 1), new Shape(2, 16));
            NDArray y = m.create(randomTokens(2 * 16, 65, 2), new Shape(2, 16));
            float g1;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.loss(x, y, true));
            }
            Map<String, NDArray> grads = model.gradients(m);
            g1 = grads.get("steps.0.blocks.0.attn.qkv.weight").abs().sum().getFloat();
            assertTrue(g1 > 0);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.loss(x, y, true));
            }
            float g2 = model.gradients(m).get("steps.0.blocks.0.attn.qkv.weight").abs().sum().getFloat();
            assertEquals(2 * g1, g2, 1e-3 * g2);
            model.zeroGradients();
            for (NDArray g : model.gradients(m).values()) {
                assertEquals(0f, g.abs().sum().getFloat());
            }
        }
    }

    @Test
    void dropoutActsOnlyWhileTraining() {
        ModelConfig c = ModelConfig.charTiny(65).withStepsRecipe().withDropout(0.3);
        try (LanguageModel model = ReferenceParityTest.randomModel(c, new ReferenceKernels(), 3);
             NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(randomTokens(2 * 16, 65, 1), new Shape(2, 16));
            float[] eval1 = model.logits(x, false).toFloatArray();
            float[] eval2 = model.logits(x, false).toFloatArray();
            float[] train1 = model.logits(x, true).toFloatArray();
            float[] train2 = model.logits(x, true).toFloatArray();
            KvCacheTest.assertMaxDiff(eval1, eval2, 0.0);
            assertTrue(maxDiff(train1, train2) > 1e-3, "two training passes must drop different units");
            assertTrue(maxDiff(eval1, train1) > 1e-3, "training applies dropout");
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void changingTokenTChangesNoEarlierLogits() {
        ModelConfig llama = ModelConfig.charTiny(65).withOverrides(
                "{\"positions\": \"ROTARY\", \"norm\": \"RMS_NORM\", \"mlp\": \"SWIGLU\"}", "test");
        try (NDManager kernelManager = NDManager.newBaseManager();
             TorchScriptKernels fused = TorchScriptKernels.load(kernelManager)) {
            for (Kernels kernels : List.of(new ReferenceKernels(), fused)) {
                for (ModelConfig c : List.of(ModelConfig.charTiny(65), ModelConfig.charTiny(65).withStepsRecipe(),
                        llama, llama.withStepsRecipe())) {
                    assertCausal(c, kernels);
                }
            }
        }
    }

    private static void assertCausal(ModelConfig c, Kernels kernels) {
        try (LanguageModel model = ReferenceParityTest.randomModel(c, kernels, 8);
             NDManager m = NDManager.newBaseManager()) {
            int t = 32;
            int[] a = randomTokens(t, 65, 3);
            int changed = 20;
            int[] b = a.clone();
            b[changed] = (a[changed] + 7) % 65;
            float[] la = model.logits(m.create(a, new Shape(1, t)), false).toFloatArray();
            float[] lb = model.logits(m.create(b, new Shape(1, t)), false).toFloatArray();
            for (int i = 0; i < changed * 65; i++) {
                assertEquals(la[i], lb[i], 0f, "logit " + i + " at position " + i / 65 + " changed");
            }
            double later = 0;
            for (int i = changed * 65; i < la.length; i++) {
                later = Math.max(later, Math.abs(la[i] - lb[i]));
            }
            assertTrue(later > 1e-3, "changing token " + changed + " must change its own logits");
        }
    }

    @Test
    void tinyModelOverfitsOneBatch() {
        ModelConfig c = ModelConfig.gpt(32, 16, 2, 4, 32, 0.0, false).withStepsRecipe();
        try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()));
             NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(randomTokens(4 * 16, 32, 1), new Shape(4, 16));
            NDArray y = m.create(randomTokens(4 * 16, 32, 2), new Shape(4, 16));
            Adam adam = new Adam(model, m, 1e-2f);
            float first = 0;
            float last = 0;
            for (int i = 0; i < 150; i++) {
                try (NDManager step = m.newSubManager()) {
                    NDArray loss;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        loss = model.loss(x.duplicate(), y, true);
                        loss.attach(step);
                        gc.backward(loss);
                    }
                    last = loss.getFloat();
                    if (i == 0) {
                        first = last;
                    }
                    adam.step(step);
                }
            }
            assertEquals(Math.log(32), first, 0.1);
            assertTrue(last < 0.1, "loss after 150 Adam steps on one batch: " + last + " (from " + first + ")");
        }
    }

    @Test
    void liveNativeArraysStayFlatOverManyPasses() {
        ModelConfig c = ModelConfig.charTiny(65).withStepsRecipe();
        try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(new ReferenceKernels()));
             NDManager root = NDManager.newBaseManager()) {
            NDArray y = root.create(randomTokens(2 * 32, 65, 2), new Shape(2, 32));
            Adam adam = new Adam(model, root, 1e-3f);
            int[] counts = new int[25];
            for (int i = 0; i < counts.length; i++) {
                try (NDManager step = root.newSubManager()) {
                    NDArray x = step.create(randomTokens(2 * 32, 65, i), new Shape(2, 32));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(model.loss(x, y, true));
                    }
                    adam.step(step);
                    try (KvCache cache = model.newCache(2)) {
                        model.step(x.get(":, :4"), cache);
                        model.step(x.get(":, 4:5"), cache);
                    }
                }
                counts[i] = liveArrays(root) + liveArrays(model);
            }
            assertEquals(counts[2], counts[counts.length - 1], "live arrays " + java.util.Arrays.toString(counts));
        }
    }

    private static int liveArrays(NDManager m) {
        return m.getManagedArrays().size();
    }

    private static int liveArrays(LanguageModel model) {
        // the model's manager is reached through any parameter
        return model.parameters().get("wte.weight").getManager().getManagedArrays().size();
    }

    /** Plain Adam (no decay) for the tests, run outside gradient collection, in place on the parameters. */
    static final class Adam {
        private final LanguageModel model;
        private final Map<String, NDArray> mom = new java.util.HashMap<>();
        private final Map<String, NDArray> vel = new java.util.HashMap<>();
        private final float lr;

        Adam(LanguageModel model, NDManager state, float lr) {
            this.model = model;
            this.lr = lr;
            model.parameters().forEach((k, p) -> {
                mom.put(k, state.zeros(p.getShape()));
                vel.put(k, state.zeros(p.getShape()));
            });
        }

        void step(NDManager scope) {
            model.gradients(scope).forEach((k, g) -> {
                NDArray mk = mom.get(k);
                NDArray vk = vel.get(k);
                mk.muli(0.9f).addi(g.mul(0.1f));
                vk.muli(0.99f).addi(g.square().mul(0.01f));
                // results belong to the first operand's manager: start from g (the step scope), not the state
                NDArray denom = g.zerosLike().addi(vk).sqrt().addi(1e-8f);
                NDArray update = g.zerosLike().addi(mk).divi(denom).muli(lr);
                model.parameters().get(k).subi(update);
            });
            model.zeroGradients();
        }
    }
}
