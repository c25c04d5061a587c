package io.stepslm.model;

import ai.djl.ndarray.types.DataType;

import java.util.Locale;

/**
 * Compute precision of the matmuls and attention. Master weights, activations seen by DJL, softmax, norms and the
 * loss always stay FP32 (as PyTorch autocast does); FP16 and BF16 only exist inside the fused kernels, which cast
 * their FP32 inputs, compute and cast back differentiably. DJL itself never holds a BF16 tensor, because its JNI
 * aborts the JVM on one (docs/design.md, DJL trap 2).
 */
public enum Precision {
    /** Everything in FP32: the only precision of the reference kernels. */
    FP32(DataType.FLOAT32),
    /** Matmuls and attention in FP16: fast on GPUs, slow on most CPUs. */
    FP16(DataType.FLOAT16),
    /** Matmuls and attention in BF16: fast on GPUs and on CPUs with AVX512-BF16 or AMX. */
    BF16(DataType.BFLOAT16);

    private final DataType computeType;

    Precision(DataType computeType) {
        this.computeType = computeType;
    }

    /** The dtype the fused kernels compute in (never handed to DJL for BF16). */
    public DataType computeType() {
        return computeType;
    }

    /** Lower-case name as used by the CLI and in JSON ("fp32", "fp16", "bf16"). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "fp32", "fp16" or "bf16" (any case). */
    public static Precision parse(String text) {
        for (Precision p : values()) {
            if (p.name().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException(
                "unknown precision '" + text + "': use one of fp32, fp16, bf16");
    }
}
