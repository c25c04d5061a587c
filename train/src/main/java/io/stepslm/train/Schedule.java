package io.stepslm.train;

import java.util.Locale;

/** The shape of the learning-rate decay after the linear warmup (see {@link LrSchedule}). */
public enum Schedule {
    /** Half a cosine from the peak down to the floor at the last step (nanoGPT {@code get_lr}). */
    COSINE,
    /** A straight line from the peak down to the floor at the last step. */
    LINEAR,
    /** The peak until the end: no decay. */
    CONSTANT;

    /** Lower-case name as used by the CLI and in JSON ("cosine", "linear", "constant"). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "cosine", "linear" or "constant" (any case). */
    public static Schedule parse(String text) {
        for (Schedule s : values()) {
            if (text != null && s.name().equalsIgnoreCase(text.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("schedule must be cosine, linear or constant, got " + text);
    }
}
