package io.stepslm.tokenizer;

import java.util.HashSet;
import java.util.List;

/**
 * What {@link BpeTrainer} learns.
 *
 * @param vocabSize     total ids: 256 byte tokens + merges + special tokens (GPT-2: 50257)
 * @param minFrequency  a pair seen fewer times than this is never merged (HuggingFace's Python
 *                      {@code ByteLevelBPETokenizer.train} default is 2; its Rust trainer default is 0)
 * @param specialTokens matched before splitting, never merged, given the last ids in this order
 * @param pattern       the pre-tokenization split
 */
public record BpeTrainerConfig(int vocabSize, int minFrequency, List<String> specialTokens, SplitPattern pattern) {

    public BpeTrainerConfig {
        specialTokens = List.copyOf(specialTokens);
        if (new HashSet<>(specialTokens).size() != specialTokens.size()) {
            throw new IllegalArgumentException("special tokens " + specialTokens
                    + " contain a duplicate: list each once");
        }
        for (String s : specialTokens) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a special token is the empty string: remove it");
            }
        }
        int floor = 256 + specialTokens.size();
        if (vocabSize < floor) {
            throw new IllegalArgumentException("vocabulary size " + vocabSize
                    + " is smaller than the 256 byte tokens + " + specialTokens.size() + " special tokens = " + floor
                    + ": use a vocabulary size of at least " + floor);
        }
        if (minFrequency < 0) {
            throw new IllegalArgumentException("minimum pair frequency " + minFrequency
                    + " is negative: use 0 or more");
        }
    }

    /** GPT-2's pattern with {@code <|endoftext|>}; minimum frequency 2. */
    public static BpeTrainerConfig gpt2(int vocabSize) {
        return new BpeTrainerConfig(vocabSize, 2, List.of(Tokenizer.END_OF_TEXT), SplitPattern.GPT2);
    }

    /** GPT-4's cl100k pattern with {@code <|endoftext|>}; minimum frequency 2. */
    public static BpeTrainerConfig cl100k(int vocabSize) {
        return new BpeTrainerConfig(vocabSize, 2, List.of(Tokenizer.END_OF_TEXT), SplitPattern.CL100K);
    }

    /** The number of merges to learn (fewer when the corpus runs out of pairs above the minimum frequency). */
    public int targetMerges() {
        return vocabSize - 256 - specialTokens.size();
    }

    public BpeTrainerConfig withSpecialTokens(List<String> tokens) {
        return new BpeTrainerConfig(vocabSize, minFrequency, tokens, pattern);
    }

    public BpeTrainerConfig withMinFrequency(int frequency) {
        return new BpeTrainerConfig(vocabSize, frequency, specialTokens, pattern);
    }
}
