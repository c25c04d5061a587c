package io.stepslm.model;

import ai.djl.ndarray.NDManager;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Which {@link Kernels} a run uses. FUSED (the default) loads the TorchScript kernel archive and falls back to the
 * reference kernels, recording why, when libtorch refuses it; REFERENCE forces the plain DJL oracle (slower, FP32
 * only). Nothing is printed here: the caller logs {@link Opened#fallback()} where its output goes.
 */
public enum KernelChoice {
    FUSED,
    REFERENCE;

    /**
     * The kernels a choice gave, and why they are not the ones asked for.
     *
     * @param kernels  the kernels to run with
     * @param fallback empty when the choice was honoured; otherwise one sentence saying why the fused kernels did
     *                 not load and that the reference kernels run instead
     */
    public record Opened(Kernels kernels, Optional<String> fallback) {
        public Opened {
            if (kernels == null || fallback == null) {
                throw new IllegalArgumentException("kernels and fallback must be set (fallback empty when none)");
            }
        }
    }

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
     * closing that manager frees it. Reduced precisions need fused kernels: asking for the reference kernels with
     * FP16/BF16, or falling back with them, is refused here rather than at the first matmul.
     */
    public Opened open(NDManager manager, Precision precision) {
        return open(manager, precision, TorchScriptKernels::load);
    }

    /** As {@link #open(NDManager, Precision)}, the fused kernels loaded by {@code fused} (tests simulate faults). */
    Opened open(NDManager manager, Precision precision, Function<NDManager, ? extends Kernels> fused) {
        if (this == REFERENCE) {
            requireFp32(precision, "the reference kernels were chosen");
            return new Opened(new ReferenceKernels(), Optional.empty());
        }
        try {
            return new Opened(fused.apply(manager), Optional.empty());
        } catch (IllegalStateException e) {
            requireFp32(precision, "the fused kernels did not load (" + e.getMessage() + ")");
            return new Opened(new ReferenceKernels(), Optional.of("fused kernels unavailable (" + e.getMessage()
                    + "); using the reference kernels (choose kernels=reference to make this explicit)"));
        }
    }

    private static void requireFp32(Precision precision, String why) {
        if (precision != Precision.FP32) {
            throw new IllegalArgumentException("precision " + precision.id() + " needs the fused kernels but "
                    + why + ": use precision fp32, or kernels fused on a libtorch that loads the archive");
        }
    }
}
