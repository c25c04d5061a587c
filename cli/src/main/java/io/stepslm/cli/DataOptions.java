package io.stepslm.cli;

import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.datasets.DataReport;
import io.stepslm.datasets.Document;
import io.stepslm.datasets.Documents;
import io.stepslm.datasets.OnError;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.SourceStats;
import io.stepslm.datasets.TextFormat;
import io.stepslm.tokenizer.InputFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * The source options of every command that reads text (a picocli mixin: {@code @Mixin DataOptions data;}):
 * {@code tokenizer train}, {@code data prepare}, {@code train} and {@code eval} spell them the same way and resolve
 * inputs the same way ({@link InputFiles}), so that advice printed by one command names flags it has.
 */
public final class DataOptions {

    @Option(names = "--input", arity = "1..*", paramLabel = "PATH",
            description = "Files, folders (recursive, sorted) or quoted glob patterns such as 'data/**/*.jsonl.gz'. "
                    + "Compression (gzip, bzip2, xz, zstd) is detected from the content; tar archives are read entry "
                    + "by entry.")
    List<String> inputs = new ArrayList<>();

    /** The name train used to have; comma-separated as it was there. */
    @Option(names = "--data", split = ",", hidden = true, paramLabel = "PATH", description = "Alias of --input.")
    List<String> dataAlias = new ArrayList<>();

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "text (one document per file), blocks (documents separated by blank lines), lines (one per "
                    + "line) or jsonl (default: jsonl when every input file is named *.jsonl or *.ndjson, possibly "
                    + "compressed, else text).")
    String format;

    @Option(names = "--field", paramLabel = "NAME",
            description = "The JSONL field holding the text (default: " + SourceSpec.DEFAULT_JSON_FIELD + ").")
    String field;

    /** The name train and eval used to have. */
    @Option(names = "--json-field", hidden = true, paramLabel = "NAME", description = "Alias of --field.")
    String jsonFieldAlias;

    @Option(names = "--on-error", paramLabel = "POLICY",
            description = "fail (stop naming the file and line or offset) or skip (skip and count) on corrupt or "
                    + "truncated files, non-text tar entries and bad JSONL lines (default: fail). Invalid "
                    + "UTF-8 is always repaired and counted; empty files are always skipped and counted.")
    String onError;

    /** The inputs given with --input (or its alias), then {@code more} (eval also takes files as parameters). */
    List<String> inputs(List<String> more) {
        List<String> all = new ArrayList<>(inputs);
        all.addAll(dataAlias);
        all.addAll(more);
        return all;
    }

    /**
     * The source of the inputs plus {@code more}. Without --format, JSON Lines is chosen when every file is named
     * like one (as HuggingFace datasets picks its loader), and {@code log} is told so.
     */
    SourceSpec sourceSpec(List<String> more, Consumer<String> log) throws IOException {
        List<String> all = inputs(more);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no input given: pass --input with files, folders or quoted globs");
        }
        if (field != null && jsonFieldAlias != null && !field.equals(jsonFieldAlias)) {
            throw new IllegalArgumentException("--field " + field + " and --json-field " + jsonFieldAlias
                    + " disagree: --json-field is the old name of --field, give only --field");
        }
        String jsonField = field != null ? field : jsonFieldAlias != null ? jsonFieldAlias
                : SourceSpec.DEFAULT_JSON_FIELD;
        TextFormat f;
        if (format != null) {
            f = textFormat(format);
        } else {
            f = TextFormat.byFileNames(InputFiles.resolve(all));
            if (f == TextFormat.JSONL) {
                log.accept("format: jsonl (field " + jsonField + "), chosen because every input file is named *.jsonl "
                        + "or *.ndjson; pass --format text to read them as plain text");
            }
        }
        return new SourceSpec(all, f, jsonField, onErrorPolicy(onError));
    }

    /**
     * The documents of the inputs (--input plus {@code more}), or the built-in corpus when there are none; files
     * whose text was repaired or skipped in part are reported to {@code warn}, one line each.
     */
    List<Document> documents(List<String> more, Consumer<String> warn) throws IOException {
        return inputs(more).isEmpty() ? builtinCorpus() : read(sourceSpec(more, warn), warn);
    }

    static List<Document> builtinCorpus() {
        return new ArrayList<>(List.of(new Document(BuiltinCorpus.NAME, BuiltinCorpus.text())));
    }

    /** The documents of {@code spec}, with repairs and skips reported to {@code warn}. */
    static List<Document> read(SourceSpec spec, Consumer<String> warn) throws IOException {
        List<Document> docs = new ArrayList<>();
        try (Documents d = Documents.open(spec)) {
            d.forEachRemaining(docs::add);
            printRepairs(d.report(), warn);
        }
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("the inputs " + spec.inputs() + " hold no text: give non-empty files "
                    + "(for JSON Lines, name the text's field with --field)");
        }
        return docs;
    }

    static TextFormat textFormat(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "text", "file" -> TextFormat.TEXT_FILE;
            case "blocks", "paragraphs" -> TextFormat.TEXT_BLOCKS;
            case "lines" -> TextFormat.TEXT_LINES;
            case "jsonl", "json" -> TextFormat.JSONL;
            default -> throw new IllegalArgumentException("unknown --format '" + name
                    + "': use text, blocks, lines or jsonl");
        };
    }

    /** The --format spelling of a format. */
    static String formatName(TextFormat f) {
        return switch (f) {
            case TEXT_FILE -> "text";
            case TEXT_BLOCKS -> "blocks";
            case TEXT_LINES -> "lines";
            case JSONL -> "jsonl";
        };
    }

    /** fail or skip; null (--on-error not given) is fail. */
    static OnError onErrorPolicy(String name) {
        return switch (name == null ? "fail" : name.toLowerCase(Locale.ROOT)) {
            case "fail" -> OnError.FAIL;
            case "skip" -> OnError.SKIP;
            default -> throw new IllegalArgumentException("unknown --on-error '" + name + "': use fail or skip");
        };
    }

    static String describe(SourceSpec spec) {
        return String.format(Locale.ROOT, "input %s, format %s%s, on-error %s", spec.inputs(),
                formatName(spec.format()),
                spec.format() == TextFormat.JSONL ? " (field " + spec.jsonField() + ")" : "",
                spec.onError().name().toLowerCase(Locale.ROOT));
    }

    /**
     * One line per file whose text needed repairs or lost items, as {@code data prepare}'s table counts them, so
     * that no command replaces invalid UTF-8 silently.
     */
    static void printRepairs(DataReport report, Consumer<String> warn) {
        for (SourceStats s : report.sources()) {
            if (s.repaired() > 0) {
                warn.accept("warning: " + s.source() + ": " + s.repaired() + " invalid UTF-8 sequence"
                        + (s.repaired() == 1 ? "" : "s") + " replaced by U+FFFD (convert the file to UTF-8 to keep "
                        + "its characters)");
            }
            for (String p : s.problems()) {
                warn.accept("note: " + p);
            }
        }
    }
}
