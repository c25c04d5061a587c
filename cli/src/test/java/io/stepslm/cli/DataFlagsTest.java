package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Every command that reads text has the same data flags, and its advice names only flags it has. */
class DataFlagsTest {

    private static final List<List<String>> READERS = List.of(List.of("tokenizer", "train"), List.of("data", "prepare"),
            List.of("train"), List.of("eval"));

    private static CommandSpec spec(List<String> command) {
        CommandLine cl = StepsLm.commandLine();
        for (String name : command) {
            cl = cl.getSubcommands().get(name);
        }
        return cl.getCommandSpec();
    }

    private static List<String> args(List<String> command, String... rest) {
        List<String> all = new ArrayList<>(command);
        all.addAll(List.of(rest));
        return all;
    }

    @Test
    void everyReaderHasTheSameDataFlags() {
        for (List<String> command : READERS) {
            for (String flag : List.of("--input", "--format", "--field", "--on-error", "--json-field", "--data")) {
                assertNotNull(spec(command).findOption(flag), command + " has " + flag);
            }
            assertTrue(spec(command).findOption("--json-field").hidden(), "--json-field is a hidden alias");
        }
    }

    @Test
    void adviceNamesOnlyFlagsOfTheCommandThatPrintsIt(@TempDir Path dir) throws Exception {
        Path jsonl = Files.writeString(dir.resolve("e.jsonl"), "{\"body\": \"some text\"}\n");
        Path binary = Files.write(dir.resolve("b.txt"), new byte[] {'a', 0, 'b'});
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write("some text that is long enough to be cut in two ".repeat(50).getBytes(StandardCharsets.UTF_8));
        }
        byte[] whole = gz.toByteArray();
        Path cut = Files.write(dir.resolve("cut.txt.gz"), java.util.Arrays.copyOf(whole, whole.length / 2));
        // the bad input, and what the one-line message must say about it
        List<List<String>> cases = List.of(List.of(jsonl.toString(), "e.jsonl line 1 has no field \"text\""),
                List.of(binary.toString(), "b.txt: not UTF-8 text"),
                List.of(cut.toString(), "cut.txt.gz: truncated or corrupt gzip stream"));
        Path tok = dir.resolve("char.json");
        CharTokenizer.fromText("some text{}\":body").save(tok);
        Pattern flag = Pattern.compile("--[a-z][a-z-]*");
        for (List<String> bad : cases) {
            for (List<String> command : READERS) {
                String input = bad.get(0);
                List<String> a = switch (String.join(" ", command)) {
                    case "tokenizer train" -> args(command, "--input", input, "--out",
                            dir.resolve("t.json").toString());
                    case "data prepare" -> args(command, "--input", input, "--tokenizer", tok.toString(),
                            "--out", dir.resolve("ds").toString(), "--quiet");
                    case "train" -> args(command, "--char", "--input", input, "--out", dir.resolve("run").toString());
                    default -> args(command, "--checkpoint", dir.resolve("nope").toString(), input);
                };
                CliRun r = silently(() -> CliRun.of(a.toArray(String[]::new)));
                assertEquals(1, r.exit(), command + ": " + r.err());
                assertTrue(r.err().contains(bad.get(1)), command + ": " + r.err());
                assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
                Matcher m = flag.matcher(r.err());
                int named = 0;
                while (m.find()) {
                    assertNotNull(spec(command).findOption(m.group()),
                            command + " has the " + m.group() + " it advises: " + r.err());
                    named++;
                }
                assertTrue(named >= 1, "the advice names a flag (--on-error): " + r.err());
            }
        }
    }

    @Test
    void jsonLinesAreChosenByTheFileNameAndTheLogSaysSo(@TempDir Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            b.append("{\"text\": \"Document ").append(i).append(" of a truth universally acknowledged.\"}\n");
        }
        Path corpus = Files.writeString(dir.resolve("c.jsonl"), b.toString());
        Path charTok = dir.resolve("char.json");
        CliRun chars = CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--out",
                charTok.toString());
        assertEquals(0, chars.exit(), chars.err());
        assertTrue(chars.out().contains("format: jsonl") && chars.out().contains("--format text"), chars.out());
        Tokenizer t = TokenizerFiles.load(charTok);
        assertThrows(IllegalArgumentException.class, () -> t.encode("{"), "JSON syntax is not in the vocabulary");
        assertEquals("Document 7", t.decode(t.encode("Document 7")));

        Path out = dir.resolve("ds");
        CliRun prepared = CliRun.of("data", "prepare", "--input", corpus.toString(), "--tokenizer", charTok.toString(),
                "--out", out.toString(), "--quiet");
        assertEquals(0, prepared.exit(), prepared.err());
        assertTrue(prepared.out().contains("format: jsonl"), prepared.out());
        String manifest = Files.readString(out.resolve("manifest.json"));
        assertTrue(manifest.contains("\"JSONL\"") && manifest.contains("\"documents\": 50"), manifest);

        Path text = Files.writeString(dir.resolve("notes.txt"), "plain text");
        CliRun mixed = CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), text.toString(),
                "--out", dir.resolve("m.json").toString());
        assertEquals(1, mixed.exit());
        assertTrue(mixed.err().contains("c.jsonl") && mixed.err().contains("notes.txt")
                && mixed.err().contains("--format"), mixed.err());
        CliRun asText = CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--format", "text",
                "--out", dir.resolve("raw.json").toString());
        assertEquals(0, asText.exit(), asText.err());
        assertFalse(asText.out().contains("format: jsonl"), asText.out());
        TokenizerFiles.load(dir.resolve("raw.json")).encode("{"); // given --format text, the braces are text
    }

    @Test
    void theOldFieldNameStillWorksAndMustAgree(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("c.jsonl"), "{\"body\": \"some text\"}\n");
        CliRun old = CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--json-field", "body",
                "--out", dir.resolve("a.json").toString());
        assertEquals(0, old.exit(), old.err());
        CliRun both = CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--json-field", "body",
                "--field", "text", "--out", dir.resolve("b.json").toString());
        assertEquals(1, both.exit());
        assertTrue(both.err().contains("--field text and --json-field body disagree"), both.err());
    }

    @Test
    void trainCountsInvalidUtf8PerFile(@TempDir Path dir) throws Exception {
        byte[] good = BuiltinCorpus.text().substring(0, 20_000).getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[good.length + 3];
        System.arraycopy(good, 0, bytes, 0, good.length);
        bytes[good.length] = (byte) 0xC3; // truncated 2-byte sequence
        bytes[good.length + 1] = (byte) 0xFF; // never valid
        bytes[good.length + 2] = (byte) 0x80; // lone continuation byte
        Path latin = Files.write(dir.resolve("latin.txt"), bytes);
        Path clean = Files.write(dir.resolve("clean.txt"), good);
        String log = CliRun.stdout(() -> CliRun.of("train", "--char", "--input", latin.toString(),
                clean.toString(),
                "--preset", "tiny", "--max-steps", "1", "--batch-size", "2", "--context", "16", "--threads", "1",
                "--out", dir.resolve("run").toString()), 0);
        assertTrue(log.contains("latin.txt: 3 invalid UTF-8 sequences replaced by U+FFFD"), log);
        assertFalse(log.contains("clean.txt: "), log);
    }

    private static CliRun silently(java.util.function.Supplier<CliRun> invocation) {
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            return invocation.get();
        } finally {
            System.setOut(saved);
        }
    }
}
