package io.stepslm.datasets;

/**
 * What a library exception says, fit for a one-line message to a user: the innermost cause's text, its first line
 * only, without a Java class name. Gson's {@code toString()}-wrapped causes and its troubleshooting link, or
 * zstd-jni's {@code ZstdIOException: Truncated source}, would otherwise reach the user as they are.
 */
final class PlainMessage {

    private PlainMessage() {}

    /** "Truncated source", "Unterminated string at line 1 column 14 path $.text"; "" when nothing is said. */
    static String of(Throwable t) {
        String text = "";
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            if (m != null && !m.isBlank()) {
                text = m;
            }
        }
        String line = text.strip().lines().findFirst().orElse("");
        // "com.google.gson.stream.MalformedJsonException: ..." -> "..."
        return line.replaceFirst("^([a-z_$][\\w$]*\\.)+[A-Z][\\w$]*(Exception|Error): ?", "").strip();
    }
}
