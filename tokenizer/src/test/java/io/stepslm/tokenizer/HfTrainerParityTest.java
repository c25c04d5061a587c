package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Training parity with HuggingFace's BpeTrainer. {@code hf-trained-tokenizer.json} was produced by npm tokenizers
 * 0.23.2 ({@code node bench/tokenizer/hf_train.js corpus.txt out.json}) on {@link #corpus()} written to a file.
 * HuggingFace's train(files) reads a file line by line (each line keeps its "\n"), so our trainer gets the same
 * lines; then every merge must be the same, in the same order: same counts, same tie-break (count, then smaller
 * (left id, right id), both alphabets in code point order).
 */
class HfTrainerParityTest {

    static String corpus() {
        List<String> parts = new ArrayList<>(Fixtures.HARD);
        parts.addAll(Fixtures.random(800, 40, 42));
        return String.join("\n", parts);
    }

    @Test
    void sameMergesAsHuggingFaceTrainer() throws Exception {
        BpeTokenizer hf = TokenizerFiles.loadBpe(
                java.nio.file.Paths.get(getClass().getResource("hf-trained-tokenizer.json").toURI()));
        List<String> lines = Arrays.asList(corpus().split("(?<=\n)"));
        // min frequency 0 and no special tokens: the node trainer's defaults; the vocabulary is large enough
        // that both stop when no pair is left
        BpeTokenizer ours = new BpeTrainer(new BpeTrainerConfig(30_000, 0, List.of(), SplitPattern.GPT2))
                .train(lines.iterator()).tokenizer();
        assertEquals(strings(hf), strings(ours));
    }

    private static List<String> strings(BpeTokenizer t) {
        List<String> out = new ArrayList<>();
        for (int[] m : t.merges()) {
            out.add(t.token(m[0]) + " " + t.token(m[1]));
        }
        return out;
    }
}
