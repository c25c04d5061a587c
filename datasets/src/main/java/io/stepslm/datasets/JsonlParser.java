package io.stepslm.datasets;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;

/**
 * {@link TextFormat#JSONL}: one JSON object per line, the document is the string in the configured field. A line
 * that is not such an object stops the read or is skipped and counted, by the {@link OnError} policy.
 */
record JsonlParser(String entry, EntryText text, SourceStats stats, SourceSpec spec) implements DocumentParser {

    @Override
    public Document next() throws IOException {
        while (true) {
            String l = text.readNonBlankLine();
            if (l == null) {
                return null;
            }
            String where = entry + " line " + text.line();
            String problem;
            try {
                JsonElement e = JsonParser.parseString(l);
                if (!e.isJsonObject()) {
                    problem = "is JSON but not an object";
                } else {
                    JsonObject o = e.getAsJsonObject();
                    JsonElement field = o.get(spec.jsonField());
                    if (field == null) {
                        problem = "has no field \"" + spec.jsonField() + "\" (fields: " + o.keySet() + ")";
                    } else if (!field.isJsonPrimitive() || !field.getAsJsonPrimitive().isString()) {
                        problem = "has field \"" + spec.jsonField() + "\" but it is not a string";
                    } else {
                        String t = field.getAsString();
                        if (t.isEmpty()) {
                            stats.addEmpty(where + ": empty text, skipped");
                            continue;
                        }
                        stats.addDocument();
                        return new Document(entry, t);
                    }
                }
            } catch (JsonParseException | IllegalStateException | StackOverflowError ex) {
                problem = "is not valid JSON (" + PlainMessage.of(ex) + ")";
            }
            if (spec.onError() == OnError.FAIL) {
                throw new SourceFile.BadInput(where + " " + problem
                        + ": fix the line, choose the field with --field, or pass --on-error skip");
            }
            stats.addSkipped(where + " " + problem + ", skipped");
        }
    }
}
