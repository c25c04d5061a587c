package io.stepslm.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** What the rest of stepslm needs from a tokenizer: text to ids and back, sizes, and a stable identity. */
public interface Tokenizer {

    /** The end-of-text special token that separates documents; one source of truth for training and inference. */
    String END_OF_TEXT = "<|endoftext|>";

    /** Encodes text to ids; special tokens that appear literally in the text are matched first and never split. */
    int[] encode(String text);

    /** Decodes ids to text; {@code decode(encode(s)).equals(s)} for every valid string. */
    String decode(int[] ids);

    /** Number of ids this tokenizer can produce (base vocabulary plus special tokens). */
    int vocabSize();

    /** Id of {@link #END_OF_TEXT}. */
    int endOfTextId();

    /**
     * A stable hex fingerprint (SHA-256 of the canonical saved form): shards and checkpoints record it so that
     * data tokenized by one tokenizer is never read with another.
     */
    String fingerprint();

    /** Writes the tokenizer as JSON (HuggingFace {@code tokenizer.json} format for BPE) atomically. */
    void save(Path file) throws IOException;

    /** Encodes many texts, in input order, using all cores; implementations may share a cache across threads. */
    default int[][] encodeBatch(java.util.List<String> texts) {
        return texts.parallelStream().map(this::encode).toArray(int[][]::new);
    }
}
