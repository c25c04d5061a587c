package io.stepslm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;

import java.util.Optional;
import java.util.function.Function;

/**
 * Where and how a {@link LanguageModel} runs: device, kernel implementation, compute precision of matmuls and
 * attention (master weights always FP32), and the seed of initialisation and dropout. Not serialised: a checkpoint
 * can be loaded onto any runtime.
 *
 * <p>A runtime made by {@link #open} owns the native manager its kernels live in and frees it on {@link #close};
 * close it after the models that use it (try-with-resources around them). A runtime made with the constructor
 * borrows kernels that someone else closes, and its {@code close} does nothing.
 */
public final class ModelRuntime implements AutoCloseable {

    private final Device device;
    private final Kernels kernels;
    private final Precision precision;
    private final long seed;
    private final Optional<String> kernelFallback;
    /** The manager the kernels live in when this runtime owns them; null when they are borrowed. */
    private final NDManager kernelManager;

    /** A runtime over borrowed {@code kernels} (tests, replicas): closing it leaves the kernels open. */
    public ModelRuntime(Device device, Kernels kernels, Precision precision, long seed) {
        this(device, kernels, precision, seed, Optional.empty(), null);
    }

    private ModelRuntime(Device device, Kernels kernels, Precision precision, long seed,
                         Optional<String> kernelFallback, NDManager kernelManager) {
        if (device == null || kernels == null || precision == null) {
            throw new IllegalArgumentException("device, kernels and precision must be set, e.g. "
                    + "ModelRuntime.cpu(new ReferenceKernels())");
        }
        this.device = device;
        this.kernels = kernels;
        this.precision = precision;
        this.seed = seed;
        this.kernelFallback = kernelFallback;
        this.kernelManager = kernelManager;
    }

    /**
     * Opens {@code choice}'s kernels on {@code device} in a manager this runtime owns. When the fused kernels do not
     * load, the reference kernels run (FP32 only) and {@link #kernelFallback()} says why: the caller logs it.
     */
    public static ModelRuntime open(Device device, KernelChoice choice, Precision precision, long seed) {
        return open(device, precision, seed, manager -> choice.open(manager, precision));
    }

    /** As {@link #open(Device, KernelChoice, Precision, long)} with the kernels opened by {@code kernels}. */
    static ModelRuntime open(Device device, Precision precision, long seed,
                             Function<NDManager, KernelChoice.Opened> kernels) {
        NDManager manager = NDManager.newBaseManager(device);
        try {
            KernelChoice.Opened opened = kernels.apply(manager);
            return new ModelRuntime(device, opened.kernels(), precision, seed, opened.fallback(), manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** FP32 on the CPU with seed 1337 (nanoGPT's default seed), over borrowed kernels. */
    public static ModelRuntime cpu(Kernels kernels) {
        return new ModelRuntime(Device.cpu(), kernels, Precision.FP32, 1337);
    }

    public Device device() {
        return device;
    }

    public Kernels kernels() {
        return kernels;
    }

    public Precision precision() {
        return precision;
    }

    public long seed() {
        return seed;
    }

    /** Why the fused kernels asked for are not running (empty when the choice was honoured). */
    public Optional<String> kernelFallback() {
        return kernelFallback;
    }

    /** The same runtime with another seed; it borrows the kernels, so closing it leaves them open. */
    public ModelRuntime withSeed(long newSeed) {
        return new ModelRuntime(device, kernels, precision, newSeed, kernelFallback, null);
    }

    /** The same runtime with another precision; it borrows the kernels, so closing it leaves them open. */
    public ModelRuntime withPrecision(Precision newPrecision) {
        return new ModelRuntime(device, kernels, newPrecision, seed, kernelFallback, null);
    }

    /** Whether this runtime owns its kernels and has not been closed yet. */
    boolean ownsOpenKernels() {
        return kernelManager != null && kernelManager.isOpen();
    }

    @Override
    public void close() {
        if (kernelManager == null) {
            return;
        }
        if (kernels instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the " + kernels.name() + " kernels failed: " + e, e);
            }
        }
        kernelManager.close();
    }

    @Override
    public String toString() {
        return "ModelRuntime[device=" + device + ", kernels=" + kernels.name() + ", precision=" + precision.id()
                + ", seed=" + seed + "]";
    }
}
