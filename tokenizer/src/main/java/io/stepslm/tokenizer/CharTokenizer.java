package io.stepslm.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Character-level tokenizer as in nanoGPT's {@code shakespeare_char}: the vocabulary is the sorted distinct code
 * points of a corpus (ids 0..n-1), plus {@link Tokenizer#END_OF_TEXT} as id n. Text containing a character outside
 * the vocabulary cannot be encoded (there is no unknown token) and is refused with the character and its index.
 */
public final class CharTokenizer implements Tokenizer {

    static final String TYPE = "char";

    private final int[] codePoints;
    private final SpecialTokens specials = new SpecialTokens(List.of(END_OF_TEXT));
    private volatile String fingerprint;

    CharTokenizer(int[] sortedDistinctCodePoints) {
        for (int i = 1; i < sortedDistinctCodePoints.length; i++) {
            if (sortedDistinctCodePoints[i] <= sortedDistinctCodePoints[i - 1]) {
                throw new IllegalArgumentException("a char vocabulary must list distinct code points in increasing "
                        + "order; U+"
                        + Integer.toHexString(sortedDistinctCodePoints[i]).toUpperCase() + " is out of order");
            }
        }
        this.codePoints = sortedDistinctCodePoints.clone();
    }

    /** The vocabulary of {@code text}: its distinct code points, sorted (nanoGPT: {@code sorted(list(set(data)))}). */
    public static CharTokenizer fromText(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("cannot build a character vocabulary from an empty text: pass the "
                    + "training corpus");
        }
        return new CharTokenizer(text.codePoints().distinct().sorted().toArray());
    }

    /** The vocabulary of UTF-8 text files and folders, read in blocks (invalid UTF-8 becomes U+FFFD). */
    public static CharTokenizer fromFiles(java.util.List<Path> inputs) throws IOException {
        java.util.BitSet seen = new java.util.BitSet();
        CorpusFiles corpus = CorpusFiles.of(inputs);
        corpus.forEachBlock(List.of(), block -> {
            block.codePoints().forEach(seen::set);
        });
        if (seen.isEmpty()) {
            throw new IllegalArgumentException("the corpus " + corpus.files()
                    + " is empty: pass files that contain text");
        }
        return new CharTokenizer(seen.stream().toArray());
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length());
        SpecialTokens.Cursor cursor = specials.cursor(text);
        int pos = 0;
        while (true) {
            boolean found = cursor.find(pos);
            for (int i = pos; i < cursor.start; ) {
                int cp = text.codePointAt(i);
                int id = Arrays.binarySearch(codePoints, cp);
                if (id < 0) {
                    throw new IllegalArgumentException("character " + describe(cp) + " at index " + i
                            + " is not in the character vocabulary (" + codePoints.length
                            + " characters): build the char tokenizer from a corpus that contains it");
                }
                out.add(id);
                i += Character.charCount(cp);
            }
            if (!found) {
                return out.toArray();
            }
            out.add(endOfTextId());
            pos = cursor.end();
        }
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder(ids.length);
        for (int id : ids) {
            if (id == codePoints.length) {
                b.append(END_OF_TEXT);
            } else if (id >= 0 && id < codePoints.length) {
                b.appendCodePoint(codePoints[id]);
            } else {
                throw new IllegalArgumentException("token id " + id + " is not in this char tokenizer's vocabulary (0.."
                        + codePoints.length + "): the ids come from a different tokenizer");
            }
        }
        return b.toString();
    }

    @Override
    public int vocabSize() {
        return codePoints.length + 1;
    }

    @Override
    public int endOfTextId() {
        return codePoints.length;
    }

    /** The vocabulary's code points in id order. */
    public int[] codePoints() {
        return codePoints.clone();
    }

    @Override
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            f = TokenizerFiles.sha256(toJson());
            fingerprint = f;
        }
        return f;
    }

    @Override
    public void save(Path file) throws IOException {
        AtomicFiles.write(file, toJson());
    }

    /** {"type": "char", "vocab": ["\n", " ", ...], "added_tokens": [{"id": n, "content": "<|endoftext|>", ...}]}. */
    byte[] toJson() {
        JsonObject root = new JsonObject();
        root.addProperty("type", TYPE);
        JsonArray vocab = new JsonArray();
        for (int cp : codePoints) {
            vocab.add(new String(Character.toChars(cp)));
        }
        root.add("vocab", vocab);
        JsonArray added = new JsonArray();
        JsonObject eot = new JsonObject();
        eot.addProperty("id", codePoints.length);
        eot.addProperty("content", END_OF_TEXT);
        eot.addProperty("special", true);
        added.add(eot);
        root.add("added_tokens", added);
        return (TokenizerFiles.GSON.toJson(root) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    static CharTokenizer fromJson(JsonObject root, String where) {
        if (!root.has("vocab") || !root.get("vocab").isJsonArray()) {
            throw new IllegalArgumentException(where + ": a char tokenizer needs a \"vocab\" array of characters");
        }
        JsonArray vocab = root.getAsJsonArray("vocab");
        int[] cps = new int[vocab.size()];
        for (int i = 0; i < cps.length; i++) {
            String s = vocab.get(i).getAsString();
            if (s.isEmpty() || s.codePointCount(0, s.length()) != 1) {
                throw new IllegalArgumentException(where + ": vocab entry " + i + " " + BpeTokenizer.quote(s)
                        + " is not exactly one character");
            }
            cps[i] = s.codePointAt(0);
        }
        try {
            return new CharTokenizer(cps);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static String describe(int cp) {
        String hex = String.format("U+%04X", cp);
        return Character.isISOControl(cp) || Character.isWhitespace(cp) ? hex : "'" + new String(Character.toChars(cp))
                + "' (" + hex + ")";
    }
}
