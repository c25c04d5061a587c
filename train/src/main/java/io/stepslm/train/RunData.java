package io.stepslm.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a run's training text comes from, as {@code stepslm train} was told at the start: everything needed to
 * rebuild the same data stream, so that {@code --resume} needs no data flags. Stored as {@value #FILE} in the run
 * folder (a checkpoint holds the model, tokenizer and loader position; this holds what the position is a position
 * in). Paths are absolute, so a run resumes from any working directory.
 *
 * @param inputs the --input files, folders and globs; empty for the built-in corpus or shards
 * @param format text, blocks, lines or jsonl as resolved at the start (null for the built-in corpus or shards)
 * @param field the JSONL text field (null unless the format is jsonl)
 * @param onError fail or skip
 * @param shards the --shards folder, or null for text
 * @param tokenizer the --tokenizer file, or null (--char, or the vocabulary built otherwise)
 * @param charLevel whether --char built the vocabulary from the text
 * @param valFraction the last fraction of the in-memory token stream that validates (unused with shards)
 */
public record RunData(List<String> inputs, String format, String field, String onError, String shards,
                      String tokenizer, boolean charLevel, double valFraction) {

    public static final String FILE = "data.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    public RunData {
        inputs = List.copyOf(inputs);
        if (shards != null && !inputs.isEmpty()) {
            throw new IllegalArgumentException("give either --shards DIR or --input files, not both");
        }
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("--val-fraction must be in [0, 1), got " + valFraction);
        }
    }

    /** Writes {@value #FILE} into {@code runDir} atomically (a kill leaves the old file or the new one). */
    public void write(Path runDir) throws IOException {
        AtomicFiles.writeString(runDir.resolve(FILE), GSON.toJson(this) + "\n");
    }

    /** The data a run folder stored at its start, or null when it has none (a run of an older stepslm). */
    public static RunData read(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        try {
            RunData d = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), RunData.class);
            if (d == null || d.inputs() == null || d.onError() == null) {
                throw new JsonParseException("fields are missing");
            }
            return new RunData(d.inputs(), d.format(), d.field(), d.onError(), d.shards(), d.tokenizer(),
                    d.charLevel(), d.valFraction()); // through the compact constructor's checks
        } catch (JsonParseException | IllegalArgumentException e) {
            throw new IOException(file + " is corrupt (" + e.getMessage().lines().findFirst().orElse("")
                    + "): give the run's data flags again (--input or --shards, --tokenizer or --char) with --resume",
                    e);
        }
    }

    /** For the log: "input [/data/austen.txt], format text" or "shards /data/owt" or "the built-in corpus". */
    public String describe() {
        if (shards != null) {
            return "shards " + shards + ", tokenizer " + tokenizer;
        }
        if (inputs.isEmpty()) {
            return "the built-in corpus, val fraction " + valFraction;
        }
        return "input " + inputs + ", format " + format + (field != null ? " (field " + field + ")" : "")
                + ", on-error " + onError + ", val fraction " + valFraction;
    }
}
