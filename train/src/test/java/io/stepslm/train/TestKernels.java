package io.stepslm.train;

import ai.djl.ndarray.NDManager;
import io.stepslm.model.Kernels;
import io.stepslm.model.ReferenceKernels;
import io.stepslm.model.TorchScriptKernels;

/** The kernels by name ("reference" or "fused") for tests that run on both; the fused module loads once per JVM. */
final class TestKernels {

    private static TorchScriptKernels fused;

    private TestKernels() {
    }

    static synchronized Kernels named(String name) {
        if (name.equals("reference")) {
            return new ReferenceKernels();
        }
        if (fused == null) {
            fused = TorchScriptKernels.load(NDManager.newBaseManager()); // lives until the test JVM exits
        }
        return fused;
    }
}
