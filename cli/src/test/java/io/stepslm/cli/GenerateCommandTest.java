package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `stepslm generate` as the README describes it: a sample stops at end-of-text unless --no-stop-at-eot, and sample i
 * of --samples uses seed + i. (Streaming whole UTF-8 characters is tested on generate's TextStream.)
 */
class GenerateCommandTest {
    @TempDir
    static Path dir;
    static Path run;

    /** stdout and stderr of one invocation, which generate writes to System.out and System.err. */
    record Output(String out, String err) {
        /** The token count of each sample from the "[N tokens in ...]" lines. */
        List<Integer> tokenCounts() {
            Matcher m = Pattern.compile("\\[(\\d+) tokens in").matcher(err);
            return m.results().map(r -> Integer.parseInt(r.group(1))).toList();
        }
    }

    @BeforeAll
    static void anUntrainedModel() throws Exception {
        // Two steps leave the model close to uniform over ~70 ids: end-of-text comes within a few hundred tokens.
        Path corpus = Files.writeString(dir.resolve("austen.txt"), BuiltinCorpus.text().substring(0, 20_000));
        run = dir.resolve("run");
        Output o = generate(List.of("train", "--char", "--data", corpus.toString(), "--preset", "tiny", "--max-steps",
                "2",
                "--batch-size", "2", "--context", "16", "--threads", "1", "--out", run.toString()));
        assertTrue(Files.isDirectory(run.resolve("checkpoints")), o.out() + o.err());
    }

    static Output generate(List<String> args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        CliRun r;
        try {
            r = CliRun.of(args.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        assertEquals(0, r.exit(), r.err() + e.toString(StandardCharsets.UTF_8));
        return new Output(o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aSampleStopsAtEndOfTextUnlessToldNotTo() {
        List<String> base = List.of("generate", "--checkpoint", run.toString(), "--tokens", "600", "--seed", "5",
                "--temperature", "1");
        Output stopped = generate(base);
        Output through = generate(concat(base, "--no-stop-at-eot"));
        int n = stopped.tokenCounts().get(0);
        assertTrue(n < 600, "the sample stopped at end-of-text after " + n + " of 600 tokens");
        assertEquals(600, through.tokenCounts().get(0), "--no-stop-at-eot generates all tokens");
        // the same seed draws the same tokens up to the stop; the stopped text does not print the end-of-text
        String head = stopped.out().substring(0, stopped.out().length() - System.lineSeparator().length());
        assertTrue(through.out().startsWith(head), "the stopped sample is the start of the full one");
        assertTrue(through.out().length() > stopped.out().length() + 100, "the full one goes on past it");
    }

    @Test
    void sampleIOfSamplesUsesSeedPlusI() {
        List<String> base = List.of("generate", "--checkpoint", run.toString(), "--tokens", "30", "--prompt", "It is",
                "--no-stop-at-eot");
        Output three = generate(concat(concat(base, "--seed", "7"), "--samples", "3"));
        String[] samples = three.out().split("---------- sample \\d+ ----------\\R");
        assertEquals(4, samples.length, three.out()); // text before the first header is empty
        for (int i = 0; i < 3; i++) {
            String alone = generate(concat(base, "--seed", Integer.toString(7 + i))).out();
            assertEquals(alone, samples[i + 1], "sample " + (i + 1) + " is the sample of seed " + (7 + i));
        }
        assertFalse(samples[1].equals(samples[2]), "different seeds, different samples");
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(List.of(more));
        return all;
    }
}
