package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenizer commands end to end through the root command line, as a user runs them. */
class TokenizerCommandTest {


    private static Path corpus(Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            b.append("It is a truth universally acknowledged, that a single man in possession of a good fortune, ")
                    .append("must be in want of a wife. Chapter ").append(i).append(".\n\n");
        }
        return Files.writeString(dir.resolve("corpus.txt"), b.toString());
    }

    @Test
    void trainEncodeDecodeInfo(@TempDir Path dir) throws Exception {
        Path corpus = corpus(dir);
        Path tok = dir.resolve("tokenizer.json");
        CliRun train = CliRun.of("tokenizer", "train", "--input", corpus.toString(), "--vocab-size", "300",
                "--out", tok.toString(), "--quiet");
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.out().contains("learned 43 merges"), train.out());
        CliRun encode = CliRun.of("tokenizer", "encode", "--tokenizer", tok.toString(),
                "--text", "It is a truth<|endoftext|>!");
        assertEquals(0, encode.exit(), encode.err());
        assertTrue(encode.out().trim().contains(" 299 "), encode.out());
        CliRun decode = CliRun.of("tokenizer", "decode", "--tokenizer", tok.toString(),
                "[" + encode.out().trim().replace(' ', ',') + "]");
        assertEquals("It is a truth<|endoftext|>!\n", decode.out());
        CliRun info = CliRun.of("tokenizer", "info", "--tokenizer", tok.toString(), "--input", corpus.toString());
        assertTrue(info.out().contains("vocabulary:   300 ids") && info.out().contains("bytes/token"), info.out());
        CliRun chars = CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(),
                "--out", dir.resolve("char.json").toString());
        assertEquals(0, chars.exit(), chars.err());
        CliRun charEncode = CliRun.of("tokenizer", "encode", "--tokenizer", dir.resolve("char.json").toString(),
                "--text", "Zebra");
        assertEquals(1, charEncode.exit());
        assertTrue(charEncode.err().contains("'Z'") && charEncode.err().contains("index 0"), charEncode.err());
    }

    @Test
    void failuresNameTheInputAndLeaveNoPartialOutput(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        Path out = Files.writeString(dir.resolve("tokenizer.json"), "previous content");
        CliRun r = CliRun.of("tokenizer", "train", "--input", empty.toString(), "--vocab-size", "300",
                "--out", out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("empty.txt") && r.err().contains("empty"), r.err());
        assertEquals("previous content", Files.readString(out), "a failed run leaves the old output untouched");
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file is left behind");
        }
        CliRun small = CliRun.of("tokenizer", "train", "--input", corpus(dir).toString(), "--vocab-size", "100",
                "--out", out.toString());
        assertEquals(1, small.exit());
        assertTrue(small.err().contains("vocabulary size 100") && small.err().contains("at least 257"), small.err());
        CliRun missing = CliRun.of("tokenizer", "encode", "--tokenizer", dir.resolve("nope.json").toString(),
                "--text", "x");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("nope.json"), missing.err());
        CliRun badIds = CliRun.of("tokenizer", "decode", "--tokenizer", out.toString(), "1", "x");
        assertEquals(1, badIds.exit());
        assertTrue(badIds.err().contains("tokenizer.json"), badIds.err());
        CliRun pattern = CliRun.of("tokenizer", "train", "--input", empty.toString(), "--pattern", "gpt5",
                "--out", out.toString());
        assertTrue(pattern.err().contains("unknown --pattern 'gpt5'"), pattern.err());
    }
}
