package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Behaviour of the whole model: loss at init, overfitting one batch, causality, gradients, zeroing. */
class LanguageModelBehaviourTest {

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
}
