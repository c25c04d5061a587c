package io.stepslm.machine;

import ai.djl.Device;
import ai.djl.engine.Engine;

import java.util.Locale;

/**
 * The device a run asks for: "cpu", "gpu" (the first GPU) or "gpu:N". Resolving it checks that the GPU exists, so
 * a CPU-only machine gets a message instead of a native error at the first tensor. GPU users need a CUDA libtorch
 * (PYTORCH_FLAVOR=cu128, see ../shared/design/djl-notes.md).
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

    /** The DJL device, after checking that a GPU with that index is visible to libtorch. */
    public Device resolve() {
        if (!isGpu()) {
            return Device.cpu();
        }
        int index = spec.contains(":") ? Integer.parseInt(spec.substring(4)) : 0;
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        if (index >= gpus) {
            throw new IllegalArgumentException("device " + spec + " asked for GPU " + index + " but libtorch sees "
                    + gpus + " GPU(s): use device cpu, or run with a CUDA libtorch (PYTORCH_FLAVOR=cu128)");
        }
        return Device.gpu(index);
    }
}
