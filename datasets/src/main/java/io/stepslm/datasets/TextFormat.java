package io.stepslm.datasets;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** How a text source is cut into documents. */
public enum TextFormat {
    /** The whole file (or tar entry) is one document: books, source files. */
    TEXT_FILE,
    /** Documents are separated by one or more blank lines. */
    TEXT_BLOCKS,
    /** Every non-blank line is one document. */
    TEXT_LINES,
    /** JSON Lines: one object per line, the document is the string in a configurable field (HuggingFace datasets'
     *  default "text"). */
    JSONL;

    /**
     * The format the file names imply when none is given, as HuggingFace datasets picks its loader by extension:
     * JSONL when every file is named {@code *.jsonl} or {@code *.ndjson} (also compressed, e.g. {@code .jsonl.zst}),
     * else plain text, one document per file. A mix of both is refused rather than read half as raw JSON.
     */
    public static TextFormat byFileNames(List<Path> files) {
        Path json = null;
        Path other = null;
        for (Path f : files) {
            if (isJsonLines(f)) {
                json = json == null ? f : json;
            } else {
                other = other == null ? f : other;
            }
        }
        if (json != null && other != null) {
            throw new IllegalArgumentException("the inputs mix JSON Lines (" + json + ") with other files (" + other
                    + "): pass --format jsonl or --format text to say how to read them all, or read them separately");
        }
        return json != null ? JSONL : TEXT_FILE;
    }

    private static boolean isJsonLines(Path f) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String compressed : List.of(".gz", ".bz2", ".xz", ".zst", ".zstd")) {
            if (name.endsWith(compressed)) {
                name = name.substring(0, name.length() - compressed.length());
                break;
            }
        }
        return name.endsWith(".jsonl") || name.endsWith(".ndjson");
    }
}
