package io.stepslm.machine;

import ai.djl.Device;

import java.util.Locale;

/**
 * The device a run asks for: "cpu", "gpu" (the first GPU) or "gpu:N". Resolving it checks that the GPU exists, so
 * a CPU-only machine gets a message instead of a native error at the first tensor. GPU users need a CUDA libtorch
 * (docs/gpu.md).
 *
 * @param spec "cpu", "gpu" or "gpu:N"
 */
public record DeviceSetting(String spec) {

    public DeviceSetting {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("cpu") && !s.matches("gpu(:\\d+)?")) {
            throw new IllegalArgumentException("unknown device '" + spec + "': use cpu, gpu or gpu:N");
        }
        spec = s;
    }

    public static DeviceSetting cpu() {
        return new DeviceSetting("cpu");
    }

    public boolean isGpu() {
        return spec.startsWith("gpu");
    }

    /** The GPU index asked for (0 for "gpu"), -1 for the CPU. */
    public int gpuIndex() {
        return !isGpu() ? -1 : spec.contains(":") ? Integer.parseInt(spec.substring(4)) : 0;
    }

    /**
     * The DJL device, after checking that the GPU is usable: a CPU-only machine, a CPU libtorch, a wrong JNI flavor
     * or a missing CUDA runtime each get their own message ({@link GpuFacts#problem}).
     */
    public Device resolve() {
        if (!isGpu()) {
            return Device.cpu();
        }
        String problem = GpuFacts.probe().problem(gpuIndex());
        if (problem != null) {
            throw new IllegalArgumentException("device " + spec + ": " + problem);
        }
        return Device.gpu(gpuIndex());
    }
}
