package io.stepslm.tokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reading and writing tokenizer files: a HuggingFace {@code tokenizer.json} with a byte-level BPE model (GPT-2
 * family) or a stepslm char tokenizer ({@code "type": "char"}). Files are written to a temporary name and renamed,
 * so a failure never leaves a half-written tokenizer behind.
 */
public final class TokenizerFiles {

    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private TokenizerFiles() {}

    /** Loads a BPE tokenizer.json or a char tokenizer json; anything else is refused with the reason. */
    public static Tokenizer load(Path file) throws IOException {
        JsonObject root = readJson(file);
        String where = file.toString();
        try {
            if (root.has("model")) {
                return HuggingFaceJson.read(root, where);
            }
            if (root.has("type") && CharTokenizer.TYPE.equals(asString(root.get("type")))) {
                return CharTokenizer.fromJson(root, where);
            }
        } catch (NumberFormatException | IllegalStateException | UnsupportedOperationException | ClassCastException
                 | NullPointerException e) {
            // Gson's getAs...() on a value of the wrong kind (e.g. a vocabulary id that is not a number)
            throw new IllegalArgumentException(where + ": a field has the wrong kind of value (" + e.getMessage()
                    + "); is this a HuggingFace tokenizer.json?", e);
        }
        throw new IllegalArgumentException(where
                + ": not a tokenizer file: expected a HuggingFace tokenizer.json (an object with"
                + " \"model\") or a stepslm char tokenizer (\"type\": \"char\")");
    }

    /** Loads a byte-level BPE tokenizer.json; a char tokenizer or another model type is refused. */
    public static BpeTokenizer loadBpe(Path file) throws IOException {
        Tokenizer t = load(file);
        if (t instanceof BpeTokenizer bpe) {
            return bpe;
        }
        throw new IllegalArgumentException(file
                + ": this is a char tokenizer; a byte-level BPE tokenizer.json is needed here");
    }

    static JsonObject readJson(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": is a directory; pass the tokenizer.json file itself");
        }
        byte[] bytes = Files.readAllBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file
                    + ": is not UTF-8 text, so not a tokenizer json (is it the right file?)");
        }
        try (JsonReader reader = new JsonReader(new StringReader(text))) {
            reader.setStrictness(Strictness.STRICT);
            JsonElement root = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("text after the end of the JSON document");
            }
            if (!root.isJsonObject()) {
                throw new JsonParseException("the top level is not a JSON object");
            }
            return root.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            java.util.regex.Matcher at = java.util.regex.Pattern.compile("line (\\d+) column (\\d+)").matcher(why);
            String where = at.find() ? " at line " + at.group(1) + ", column " + at.group(2)
                    : " (" + why.lines().findFirst().orElse(why) + ")";
            String what = why.contains("End of input") ? "truncated JSON (the file ends too early)"
                    : "malformed or truncated JSON";
            throw new IllegalArgumentException(file + ": " + what + where
                    + "; re-create the file, e.g. with 'stepslm tokenizer train'");
        }
    }

    static String asString(JsonElement e) {
        return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
