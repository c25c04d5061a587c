package io.stepslm.datasets;

import java.util.List;

/**
 * Where the text comes from and how to read it.
 *
 * @param inputs files, folders (read recursively, in sorted order) and glob patterns such as {@code data/*.jsonl.gz}
 * @param format how files are cut into documents
 * @param jsonField the JSONL field that holds the text (used only with {@link TextFormat#JSONL})
 * @param onError policy for bad input
 */
public record SourceSpec(List<String> inputs, TextFormat format, String jsonField, OnError onError) {

    /** HuggingFace datasets and most JSONL dumps (The Pile, FineWeb, SlimPajama) keep the text under "text". */
    public static final String DEFAULT_JSON_FIELD = "text";

    public SourceSpec {
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no input given: pass at least one file, folder or glob pattern");
        }
        for (String input : inputs) {
            if (input.isBlank()) {
                throw new IllegalArgumentException("an input path is blank: remove it or give a file, folder or glob");
            }
        }
        if (jsonField.isBlank()) {
            throw new IllegalArgumentException(
                    "the JSONL text field name is blank: give the field that holds the text (default \"text\")");
        }
    }

    /** Plain text, one document per file, failing on bad input. */
    public static SourceSpec textFiles(List<String> inputs) {
        return new SourceSpec(inputs, TextFormat.TEXT_FILE, DEFAULT_JSON_FIELD, OnError.FAIL);
    }

    /** JSON Lines with the text in {@code field}, failing on bad input. */
    public static SourceSpec jsonl(List<String> inputs, String field) {
        return new SourceSpec(inputs, TextFormat.JSONL, field, OnError.FAIL);
    }

    public SourceSpec withFormat(TextFormat newFormat) {
        return new SourceSpec(inputs, newFormat, jsonField, onError);
    }

    public SourceSpec withOnError(OnError policy) {
        return new SourceSpec(inputs, format, jsonField, policy);
    }
}
