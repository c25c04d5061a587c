package io.stepslm.cli;

import io.stepslm.datasets.OnError;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.Split;
import io.stepslm.datasets.TextFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The source and split options shared by the commands that read text corpora (a picocli mixin: {@code @Mixin
 * DataOptions data;}), so that {@code data prepare}, training and evaluation spell them the same way.
 */
public final class DataOptions {

    @Option(names = "--input", arity = "1..*", required = true, paramLabel = "PATH",
            description = "Files, folders (recursive, sorted) or quoted glob patterns such as 'data/**/*.jsonl.gz'. Compression "
                    + "(gzip, bzip2, xz, zstd) is detected from the content; tar archives are read entry by entry.")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--format", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (one document per file), blocks (documents separated by blank lines), lines (one per line) "
                    + "or jsonl (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--field", defaultValue = SourceSpec.DEFAULT_JSON_FIELD, paramLabel = "NAME",
            description = "The JSONL field holding the text (default: ${DEFAULT-VALUE}).")
    String field;

    @Option(names = "--on-error", defaultValue = "fail", paramLabel = "POLICY",
            description = "fail (stop naming the file and line or offset) or skip (skip and count) on corrupt or truncated "
                    + "files, non-text tar entries and bad JSONL lines (default: ${DEFAULT-VALUE}). Invalid UTF-8 is always "
                    + "repaired and counted; empty files are always skipped and counted.")
    String onError;

    @Option(names = "--val-fraction", defaultValue = "0.005", paramLabel = "F",
            description = "Share of documents held out for validation by a stable hash of their text (default: ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(names = "--val-files", arity = "1..*", paramLabel = "NAME",
            description = "Hold out whole files instead (names or globs, e.g. persuasion.txt); overrides --val-fraction.")
    List<String> valFiles = new ArrayList<>();

    public SourceSpec sourceSpec() {
        return new SourceSpec(inputs, textFormat(format), field, onErrorPolicy(onError));
    }

    public Split split() {
        return valFiles.isEmpty() ? Split.byHash(valFraction) : Split.byFile(valFiles);
    }

    static TextFormat textFormat(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "text", "file" -> TextFormat.TEXT_FILE;
            case "blocks", "paragraphs" -> TextFormat.TEXT_BLOCKS;
            case "lines" -> TextFormat.TEXT_LINES;
            case "jsonl", "json" -> TextFormat.JSONL;
            default -> throw new IllegalArgumentException("unknown --format '" + name + "': use text, blocks, lines or jsonl");
        };
    }

    static OnError onErrorPolicy(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "fail" -> OnError.FAIL;
            case "skip" -> OnError.SKIP;
            default -> throw new IllegalArgumentException("unknown --on-error '" + name + "': use fail or skip");
        };
    }

    String describe() {
        return String.format(Locale.ROOT, "input %s, format %s%s, on-error %s, split %s", inputs, format,
                textFormat(format) == TextFormat.JSONL ? " (field " + field + ")" : "", onError,
                valFiles.isEmpty() ? "by hash, validation fraction " + valFraction : "by file, validation " + valFiles);
    }
}
