package io.stepslm.model;

import ai.djl.Device;

/**
 * Where and how a {@link LanguageModel} runs: device, kernel implementation, compute precision of matmuls and
 * attention (master weights always FP32), and the seed of initialisation and dropout. Not serialised: a checkpoint
 * can be loaded onto any runtime.
 */
public record ModelRuntime(Device device, Kernels kernels, Precision precision, long seed) {

    public ModelRuntime {
        if (device == null || kernels == null || precision == null) {
            throw new IllegalArgumentException("device, kernels and precision must be set, e.g. "
                    + "ModelRuntime.cpu(new ReferenceKernels())");
        }
    }

    /** FP32 on the CPU with seed 1337 (nanoGPT's default seed). */
    public static ModelRuntime cpu(Kernels kernels) {
        return new ModelRuntime(Device.cpu(), kernels, Precision.FP32, 1337);
    }

    public ModelRuntime withSeed(long newSeed) {
        return new ModelRuntime(device, kernels, precision, newSeed);
    }

    public ModelRuntime withPrecision(Precision newPrecision) {
        return new ModelRuntime(device, kernels, newPrecision, seed);
    }
}
