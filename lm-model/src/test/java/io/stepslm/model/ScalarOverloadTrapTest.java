package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * docs/design.md DJL trap 1: {@code mul/div(Number)} on a tensor that needs gradients wraps the number in a
 * temporary tensor
 * backed by a direct buffer that DJL frees right after the op, while autograd keeps a pointer to it for backward.
 * Between forward and backward we force a GC and allocate thousands of 1e30 scalars so the freed memory is reused:
 * the bare-array trap then shows deterministically (garbage gradients in 5 of 5 trials when written), and a model
 * that used such an overload anywhere would see different gradients than an undisturbed run.
 */
class ScalarOverloadTrapTest {

    /** Frees what can be freed and reuses small native allocations, with a value no real gradient contains. */
    static void churn(NDManager m) {
        System.gc();
        System.gc();
        for (int i = 0; i < 2000; i++) {
            m.create(1e30f);
        }
    }

    /** d sum(op(x)) / dx for x = [1, 2, 3], with or without churn between forward and backward. */
    static float[] gradient(NDManager parent, Function<NDArray, NDArray> op, boolean disturb) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(new float[] {1, 2, 3});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = op.apply(x);
                if (disturb) {
                    churn(m);
                }
                gc.backward(y.sum());
            }
            return x.getGradient().toFloatArray();
        }
    }

    @Test
    void scalarOverloadCorruptsGradientsOnABareArray() {
        try (NDManager m = NDManager.newBaseManager()) {
            List<String> wrong = new ArrayList<>();
            for (int trial = 0; trial < 5; trial++) {
                float[] g = gradient(m, x -> x.mul(2f), true);
                if (!Arrays.equals(new float[] {2, 2, 2}, g)) {
                    wrong.add(Arrays.toString(g));
                }
            }
            // If this ever fails, DJL fixed the trap; the safe pattern below stays correct either way.
            assertTrue(!wrong.isEmpty(), "x.mul(2f) gave the right gradient in 5 of 5 disturbed trials: "
                    + "trap 1 no longer reproduces on this DJL/libtorch");
        }
    }

    @Test
    void scalarAsAnArrayOnTheStepManagerIsSafe() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 5; trial++) {
                assertArrayEquals(new float[] {2, 2, 2},
                        gradient(m, x -> x.mul(x.getManager().create(2f)), true), "mul(array)");
                assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f},
                        gradient(m, x -> x.div(x.getManager().create(2f)), true), "div(array)");
                // add/sub(Number) keep no scalar for backward (the gradient of x + c does not depend on c)
                assertArrayEquals(new float[] {1, 1, 1}, gradient(m, x -> x.add(3f), true), "add(Number)");
            }
        }
    }

    @Test
    void modelGradientsAreImmuneForBothKernels() {
        try (NDManager root = NDManager.newBaseManager(); TorchScriptKernels fused = TorchScriptKernels.load(root)) {
            for (Kernels kernels : List.of(new ReferenceKernels(), fused)) {
                for (ModelConfig c : List.of(ModelConfig.gpt(65, 16, 2, 2, 32, 0.0, true),
                        ModelConfig.gpt(65, 16, 2, 4, 32, 0.0, false).withStepsRecipe())) {
                    try (LanguageModel model = LanguageModel.create(c, ModelRuntime.cpu(kernels))) {
                        Map<String, float[]> calm = modelGradients(root, model, false);
                        Map<String, float[]> disturbed = modelGradients(root, model, true);
                        for (String name : calm.keySet()) {
                            assertArrayEquals(calm.get(name), disturbed.get(name), 1e-6f,
                                    kernels.name() + " " + name + ": gradient changed when freed memory was reused,"
                                            + " so the model uses a scalar overload (mul/div/pow(Number)) somewhere");
                        }
                    }
                }
            }
        }
    }

    static Map<String, float[]> modelGradients(NDManager root, LanguageModel model, boolean disturb) {
        try (NDManager m = root.newSubManager()) {
            model.zeroGradients();
            NDArray x = m.create(LanguageModelBehaviourTest.randomTokens(2 * 16, 65, 1), new Shape(2, 16));
            NDArray y = m.create(LanguageModelBehaviourTest.randomTokens(2 * 16, 65, 2), new Shape(2, 16));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = model.loss(x, y, true);
                if (disturb) {
                    churn(m);
                }
                gc.backward(loss);
            }
            Map<String, float[]> out = new java.util.LinkedHashMap<>();
            model.gradients(m).forEach((k, v) -> out.put(k, v.toFloatArray()));
            return out;
        }
    }
}
