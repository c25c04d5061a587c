package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

/**
 * {@link ModelRuntime#open}: the runtime owns the manager of its kernels, and a native bridge that does not link
 * (simulated: the smoke call inside {@link TorchScriptKernels#load} throws the UnsatisfiedLinkError a DJL JNI with
 * another moduleRunMethod signature throws) falls back to the reference kernels at open, with the reason recorded.
 */
class ModelRuntimeTest {

    /** What the JVM throws when a native method of the bridge has no matching symbol. */
    private static final Consumer<TorchScriptKernels> UNLINKED = k -> {
        throw new UnsatisfiedLinkError("'long ai.djl.pytorch.jni.PyTorchLibrary.moduleRunMethod(long, "
                + "java.lang.String, long[], boolean, boolean)'");
    };

    @Test
    void openedRuntimeOwnsItsKernelsAndCopiesBorrowThem() {
        ModelRuntime runtime = ModelRuntime.open(Device.cpu(), KernelChoice.FUSED, Precision.BF16, 7);
        try {
            assertEquals("fused", runtime.kernels().name());
            assertEquals(Precision.BF16, runtime.precision());
            assertEquals(7, runtime.seed());
            assertTrue(runtime.kernelFallback().isEmpty(), runtime.kernelFallback().toString());
            assertTrue(runtime.ownsOpenKernels());
            ModelRuntime copy = runtime.withSeed(8);
            assertFalse(copy.ownsOpenKernels(), "a copy borrows the kernels");
            copy.close();
            assertTrue(runtime.ownsOpenKernels(), "closing a copy leaves the owner's kernels open");
        } finally {
            runtime.close();
        }
        assertFalse(runtime.ownsOpenKernels(), "close frees the kernels' manager");
        try (ModelRuntime reference = ModelRuntime.open(Device.cpu(), KernelChoice.REFERENCE, Precision.FP32, 1)) {
            assertEquals("reference", reference.kernels().name());
            assertTrue(reference.kernelFallback().isEmpty());
        }
    }

    @Test
    void aBridgeThatDoesNotLinkFailsAtLoadNotAtTheFirstStep() {
        try (NDManager parent = NDManager.newBaseManager()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> TorchScriptKernels.load(parent, UNLINKED));
            assertInstanceOf(UnsatisfiedLinkError.class, e.getCause());
            assertTrue(e.getMessage().contains("moduleRunMethod") && e.getMessage().contains("reference kernels"),
                    e.getMessage());
        }
    }

    @Test
    void aBridgeThatDoesNotLinkFallsBackToTheReferenceKernelsWithTheReasonRecorded() {
        try (ModelRuntime runtime = ModelRuntime.open(Device.cpu(), Precision.FP32, 1,
                manager -> KernelChoice.FUSED.open(manager, Precision.FP32,
                        parent -> TorchScriptKernels.load(parent, UNLINKED)))) {
            assertEquals("reference", runtime.kernels().name());
            String reason = runtime.kernelFallback().orElseThrow();
            assertTrue(reason.contains("UnsatisfiedLinkError") && reason.contains("using the reference kernels"),
                    reason);
        }
        // reduced precision cannot fall back (the reference kernels are FP32 only): refused at open, with the cause
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelRuntime.open(Device.cpu(), Precision.BF16, 1,
                        manager -> KernelChoice.FUSED.open(manager, Precision.BF16,
                                parent -> TorchScriptKernels.load(parent, UNLINKED))));
        assertTrue(e.getMessage().contains("precision fp32") && e.getMessage().contains("UnsatisfiedLinkError"),
                e.getMessage());
    }
}
