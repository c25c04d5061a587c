package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.compressors.CompressorException;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * One row per command and class of user error: the failure is one line on stderr that names the input, says what
 * is wrong, and advises only flags that the command that printed it has; no Java class names, stack traces or
 * library advice leak through.
 */
class ErrorMessagesTest {

    @TempDir
    static Path dir;
    static Path corpus;
    static Path latin1;
    static Path aFile;
    static Path run;

    @BeforeAll
    static void fixtures() throws IOException {
        corpus = Files.writeString(dir.resolve("austen.txt"), BuiltinCorpus.text().substring(0, 20_000));
        latin1 = Files.write(dir.resolve("latin1.txt"), "caf\u00e9 cr\u00e8me".getBytes(StandardCharsets.ISO_8859_1));
        aFile = Files.writeString(dir.resolve("notes.txt"), "a file, not a folder");
        // a run whose newest checkpoint has a truncated optimizer state
        run = dir.resolve("run");
        CliRun trained = quietly(() -> CliRun.of("train", "--char", "--data", corpus.toString(), "--preset", "tiny",
                "--max-steps", "2", "--batch-size", "2", "--context", "16", "--threads", "1", "--out", run.toString()));
        assertEquals(0, trained.exit(), trained.err());
        Path tensors = run.resolve("checkpoints/step-000002/optimizer.ndlist");
        Files.write(tensors, Arrays.copyOf(Files.readAllBytes(tensors), 100));
        Files.writeString(dir.resolve("fraction.json"), "{\"width\": 1.5}");
        Files.writeString(dir.resolve("small.txt"), BuiltinCorpus.text().substring(0, 1000));
        cut(CompressorStreamFactory.ZSTANDARD, "cut.txt.zst");
        cut(CompressorStreamFactory.XZ, "cut.txt.xz");
    }

    /** The corpus compressed with {@code compressor}, cut in half. */
    private static void cut(String compressor, String name) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (var out = new CompressorStreamFactory().createCompressorOutputStream(compressor, bytes)) {
            out.write(Files.readAllBytes(corpus));
        } catch (CompressorException e) {
            throw new IOException(e);
        }
        Files.write(dir.resolve(name), Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2));
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                row("tokenizer encode: Latin-1 input", List.of("is not UTF-8 text: byte 3 is 0xE9", "latin1.txt",
                        "iconv"),
                        "tokenizer", "encode", "--tokenizer", "@run/checkpoints/step-000002/tokenizer.json",
                                "--input", "@latin1.txt"),
                row("train: truncated optimizer.ndlist", List.of("optimizer.ndlist is truncated or corrupt",
                        "--resume"),
                        "train", "--resume", "@run", "--max-steps", "4", "--threads", "1"),
                row("train: --out is a file, checked before the data is read", List.of("notes.txt is a file", "--out"),
                        "train", "--char", "--data", "@missing.txt", "--out", "@notes.txt"),
                row("train: --out under a file", List.of("which is a file", "--out"),
                        "train", "--char", "--data", "@missing.txt", "--out", "@notes.txt/run"),
                row("data prepare: a cut zstd stream", List.of("cut.txt.zst: truncated or corrupt zstd stream",
                        "--on-error skip"),
                        "data", "prepare", "--input", "@cut.txt.zst", "--tokenizer",
                                "@run/checkpoints/step-000002/tokenizer.json", "--out", "@prepared", "--quiet"),
                row("train: a cut xz stream", List.of("cut.txt.xz: truncated or corrupt xz stream", "--on-error skip"),
                        "train", "--char", "--input", "@cut.txt.xz", "--out", "@fresh"),
                row("train: a context the machine cannot hold, refused before the data is read", List.of(
                        "a training step with --context 1000000 and --batch-size 12 needs about",
                        "of native memory", "of physical memory", "lower --context or --batch-size"),
                        "train", "--char", "--format", "text", "--input", "@missing.txt", "--context", "1000000",
                                "--out", "@fresh"),
                row("train: a context beyond the data", List.of("--context 2000 needs windows of 2001 tokens, but "
                        + "the training split holds only 900 tokens: lower --context to at most 899"),
                        "train", "--char", "--input", "@small.txt", "--context", "2000", "--batch-size", "1", "--out",
                                "@fresh"),
                row("train: a fractional model size", List.of("fraction.json",
                        "width is 1.5, but it must be a whole number"),
                        "train", "--char", "--data", "@austen.txt", "--model-config", "@fraction.json", "--out",
                                "@fresh"));
    }

    private static Arguments row(String name, List<String> expected, String... args) {
        return Arguments.of(name, expected, List.of(args));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void failureIsOneLineWithAdviceValidForTheCommand(String name, List<String> expected, List<String> args) {
        List<String> resolved = new ArrayList<>();
        for (String a : args) {
            resolved.add(a.startsWith("@") ? dir.resolve(a.substring(1)).toString() : a);
        }
        CliRun r = quietly(() -> CliRun.of(resolved.toArray(String[]::new)));
        String err = r.err().strip();
        assertEquals(1, r.exit(), name + ": " + r.err() + r.out());
        CommandLine command = command(resolved);
        String prefix = command.getCommandSpec().qualifiedName() + ": error: ";
        assertTrue(err.startsWith(prefix), err);
        assertFalse(err.contains("\n"), "one line: " + err);
        for (String part : expected) {
            assertTrue(err.contains(part), name + ": '" + part + "' missing in: " + err);
        }
        Pattern leaks = Pattern.compile("\\b(java|javax|com|ai\\.djl)\\.[a-z]+\\.|Exception\\b|https?://");
        assertFalse(leaks.matcher(err).find(),
                "no Java class names or library advice: " + err);
        Matcher flags = Pattern.compile("(?<![\\w-])--[a-z][a-z-]*").matcher(err);
        while (flags.find()) {
            assertTrue(command.getCommandSpec().findOption(flags.group()) != null,
                    name + ": the advice names " + flags.group() + ", which '"
                            + command.getCommandSpec().qualifiedName()
                            + "' does not have: " + err);
        }
    }

    /** The (sub)command the arguments select. */
    static CommandLine command(List<String> args) {
        CommandLine cl = StepsLm.commandLine();
        for (String a : args) {
            CommandLine sub = cl.getSubcommands().get(a);
            if (sub == null) {
                break;
            }
            cl = sub;
        }
        return cl;
    }

    /** Runs with System.out captured: training prints its progress there. */
    static CliRun quietly(java.util.function.Supplier<CliRun> invocation) {
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            return invocation.get();
        } finally {
            System.setOut(saved);
        }
    }
}
