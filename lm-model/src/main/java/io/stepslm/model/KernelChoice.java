package io.stepslm.model;

import ai.djl.ndarray.NDManager;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Which {@link Kernels} a run uses. FUSED (the default) loads the TorchScript kernel archive and falls back to the
 * reference kernels, saying why, when libtorch refuses it; REFERENCE forces the plain DJL oracle (slower, FP32 only).
 */
public enum KernelChoice {
    FUSED,
    REFERENCE;

    /** Parses "fused" or "reference" (any case). */
    public static KernelChoice parse(String text) {
        for (KernelChoice k : values()) {
            if (k.name().equalsIgnoreCase(text.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown kernels '" + text + "': use fused or reference");
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Opens the kernels on {@code manager}'s device. The fused module lives in a sub-manager of {@code manager}, so
     * closing that manager frees it. A fallback is reported on {@code log}. Reduced precisions need fused kernels:
     * asking for the reference kernels with FP16/BF16, or falling back with them, is refused here rather than at
     * the first matmul.
     */
    public Kernels open(NDManager manager, Precision precision, PrintStream log) {
        if (this == REFERENCE) {
            requireFp32(precision, "the reference kernels were chosen");
            return new ReferenceKernels();
        }
        try {
            return TorchScriptKernels.load(manager);
        } catch (IllegalStateException e) {
            requireFp32(precision, "the fused kernels did not load (" + e.getMessage() + ")");
            log.println("stepslm: fused kernels unavailable (" + e.getMessage() + "); using the reference kernels "
                    + "(choose kernels=reference to make this explicit)");
            return new ReferenceKernels();
        }
    }

    private static void requireFp32(Precision precision, String why) {
        if (precision != Precision.FP32) {
            throw new IllegalArgumentException("precision " + precision.id() + " needs the fused kernels but "
                    + why + ": use precision fp32, or kernels fused on a libtorch that loads the archive");
        }
    }
}
