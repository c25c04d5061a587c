package io.stepslm.machine;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's intra-op CPU thread count (threads inside one matmul or kernel). DJL 0.36's PtEngine reads the system
 * property {@code ai.djl.pytorch.num_threads} once at engine start and calls at::set_num_threads; we set both the
 * property (for an engine not started yet) and the live value (for one that is), so the setting works either way.
 * 0 leaves the count as it is (libtorch's default, one thread per core, unless a run set it before). The inter-op
 * pool is left alone: DJL runs ops one at a time.
 *
 * @param threads intra-op threads, 0 to leave the current count
 */
public record CpuThreads(int threads) {

    /** The system property DJL's PtEngine reads at start (engines/pytorch/.../PtEngine.java, DJL 0.36). */
    public static final String PROPERTY = "ai.djl.pytorch.num_threads";

    public CpuThreads {
        if (threads < 0) {
            throw new IllegalArgumentException("threads " + threads + " must be 0 (leave libtorch's count, by default "
                    + "one per core) or a positive count, e.g. 1 for tiny models");
        }
    }

    /** Leaves the thread count alone (libtorch's default unless set before). */
    public static CpuThreads defaults() {
        return new CpuThreads(0);
    }

    /** Applies the setting, starting the engine if needed, and returns the count libtorch now uses. */
    public int apply() {
        if (threads > 0) {
            System.setProperty(PROPERTY, Integer.toString(threads));
        }
        Engine.getEngine("PyTorch"); // starts the engine (reads the property) if not yet started
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        return JniUtils.getNumThreads();
    }

    /**
     * Whether the {@code ./stepslm} launcher preloaded its switch that lets libtorch's oneMKL use AVX-512 kernels on
     * an AMD CPU (cli/src/main/native/mkl_vendor_check.c); benchmarks print it next to their figures.
     */
    public static boolean mklAvx512Switch() {
        String preload = System.getenv("LD_PRELOAD");
        return preload != null && preload.contains("mkl_vendor_check");
    }

    /** The count libtorch uses now. */
    public static int current() {
        Engine.getEngine("PyTorch");
        return JniUtils.getNumThreads();
    }
}
