package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.SplitPattern;
import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A document longer than a piece is read in pieces; with the real BPE, its ids equal those of the whole text. */
class PieceTokenizationTest {

    @TempDir
    Path dir;

    @Test
    void piecesTokenizeLikeTheWholeDocumentWithGpt2AndCl100kPatterns() throws IOException {
        // Indented lines, blank lines, trailing spaces and CRLF: the whitespace runs that a careless cut would change.
        Random r = new Random(3);
        String[] lines = {"It is a truth universally acknowledged,", "    indented code();", "", "trailing spaces   ",
            "\tTabbed line", "  \u00e9l\u00e8ve na\u00efve", "CHAPTER 12.", "\"Quoted,\" she said!", "\r"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 2 * Documents.PIECE_CHARS + 100_000) {
            sb.append(lines[r.nextInt(lines.length)]).append('\n');
        }
        String text = sb.toString();
        Path file = Corpora.write(dir.resolve("book.txt"), text);
        // The same without blank lines, read as one block (blocks lose their final newline).
        StringBuilder block = new StringBuilder();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                block.append(line).append('\n');
            }
        }
        Path blockFile = Corpora.write(dir.resolve("block.txt"), block.toString());
        String blockText = block.substring(0, block.length() - 1);
        check(text, SourceSpec.textFiles(List.of(file.toString())));
        check(blockText, new SourceSpec(List.of(blockFile.toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL));
    }

    private static void check(String text, SourceSpec spec) throws IOException {
        for (SplitPattern pattern : List.of(SplitPattern.GPT2, SplitPattern.CL100K)) {
            BpeTokenizer bpe = new BpeTrainer(new BpeTrainerConfig(400, 2, List.of(Tokenizer.END_OF_TEXT), pattern))
                    .train(List.of(text.substring(0, 200_000)).iterator()).tokenizer();
            int[] whole = bpe.encode(text);
            StreamingConfig cfg = new StreamingConfig(1, 2, 0, false, Split.none(), Split.Part.TRAIN);
            int[] streamed;
            try (StreamingLoader l = StreamingLoader.open(spec, bpe, cfg, LoaderState.initial(0))) {
                streamed = Corpora.unwindow(Corpora.drain(l));
            }
            int[] expected = java.util.Arrays.copyOf(whole, whole.length + 1);
            expected[whole.length] = bpe.endOfTextId();
            assertTrue(whole.length > 100_000);
            assertArrayEquals(expected, streamed,
                    spec.format() + ", " + pattern + ": the pieces' ids differ from the whole document's");
        }
    }
}
