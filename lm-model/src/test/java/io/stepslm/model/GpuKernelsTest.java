package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

/** The same parity on a GPU, FP32 and reduced precision; skipped with a reason on CPU-only machines. */
@Tag("gpu")
class GpuKernelsTest {

    @Test
    void fusedMatchesReferenceOnTheGpu() {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        // the GPU profile (-Dstepslm.libtorch=cu128, docs/gpu.md) asks for a GPU: there a missing one is a failure
        if (Boolean.getBoolean("stepslm.requireGpu")) {
            assertTrue(gpus > 0, "the GPU test profile is on but libtorch sees no GPU (" + Engine.getEngine("PyTorch")
                    + "): check nvidia-smi and docs/gpu.md");
        }
        assumeTrue(gpus > 0, "no CUDA GPU visible to libtorch (CPU build or no device): GPU kernel parity not run");
        try (NDManager m = NDManager.newBaseManager(Device.gpu());
             TorchScriptKernels fused = TorchScriptKernels.load(m)) {
            ReferenceKernels ref = new ReferenceKernels();
            List<NDArray> qkv = List.of(m.randomNormal(new Shape(2, 4, 64, 32)),
                    m.randomNormal(new Shape(2, 4, 64, 32)), m.randomNormal(new Shape(2, 4, 64, 32)));
            KernelsParityTest.assertParity(m, "gpu attention", x -> ref.attention(x.get(0), x.get(1), x.get(2), true),
                    x -> fused.attention(x.get(0), x.get(1), x.get(2), true), qkv, 1e-4f);
            for (Precision p : List.of(Precision.FP16, Precision.BF16)) {
                KernelsParityTest.assertParity(m, "gpu attention " + p,
                        x -> ref.attention(x.get(0), x.get(1), x.get(2), true),
                        x -> fused.attention(x.get(0), x.get(1), x.get(2), true, p), qkv, 5e-2f);
                KernelsParityTest.assertParity(m, "gpu linear " + p,
                        x -> ref.linear(x.get(0), x.get(1), Precision.FP32),
                        x -> fused.linear(x.get(0), x.get(1), p),
                        List.of(m.randomNormal(new Shape(8, 64)), m.randomNormal(new Shape(32, 64))), 5e-2f);
            }
        }
    }
}
