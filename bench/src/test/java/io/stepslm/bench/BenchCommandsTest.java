package io.stepslm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Each {@code stepslm bench} command with tiny settings (seconds, no peer, no network): exit status and the
 * structure of the printed figures, not their values (timings are never asserted).
 */
class BenchCommandsTest {

    /** A finished command: exit status, stdout and stderr. */
    record Run(int exit, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }

        /** Lines matching the whole of {@code regex}. */
        long count(String regex) {
            Pattern p = Pattern.compile(regex);
            return lines().stream().filter(l -> p.matcher(l).matches()).count();
        }
    }

    static Run bench(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void modelTimesTheTrainingStepOfEachKernelAndSaysWhyThereIsNoPeer() {
        Run r = bench("model", "--models", "char-tiny", "--kernels", "reference,fused", "--precision", "fp32",
                "--threads", "1", "--iters", "2", "--warmup", "1", "--batch", "2");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().startsWith("stepslm bench model: "), r.out());
        assertTrue(r.out().contains("note: no PyTorch peer: pass --anchors DIR"), r.out());
        // model, params, BxT, kernels, threads, fwd+bwd tokens/s, step tokens/s, ms/step, CPU ms/step
        for (String kernels : List.of("reference", "fused")) {
            assertEquals(1, r.count("char-tiny +0\\.\\d\\dM +2x64 +" + kernels
                    + " +1 +\\d+ +\\d+ +\\d+\\.\\d +\\d+\\.\\d"), kernels + " row in\n" + r.out());
        }
        assertFalse(r.out().contains("ratio"), "no ratio without a peer");
    }

    @Test
    void modelRefusesAnAnchorsFolderWithoutTheScript(@TempDir Path empty) {
        Run r = bench("model", "--models", "char-tiny", "--anchors", empty.toString(), "--iters", "1");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("has no torch_reference.py"), r.err());
    }

    @Test
    void decodePrintsCachedAndRecomputedTimesEarlyAndLate() {
        Run r = bench("decode", "--models", "char-tiny", "--tokens", "2");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().startsWith("stepslm bench decode: "), r.out());
        // model, context, kernels, kv early, kv late, late/early, recompute early, recompute late, kv gain
        assertEquals(1, r.count("char-tiny +64 +fused +\\d+\\.\\d\\d ms +\\d+\\.\\d\\d ms +\\d+\\.\\d\\d"
                + " +\\d+\\.\\d\\d ms +\\d+\\.\\d\\d ms +\\d+\\.\\dx"), r.out());
    }

    @Test
    void serveLoadsTheServerWithConcurrentStreamingClients(@TempDir Path dir) throws IOException {
        Path source = dir.resolve("a.txt");
        Files.writeString(source, "ROMEO: It is a truth universally acknowledged. ".repeat(200));
        Path tokenizer = dir.resolve("tokenizer.json");
        new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(source)).tokenizer().save(tokenizer);
        Run r = bench("serve", "--tokenizer", tokenizer.toString(), "--clients", "1,2", "--requests", "1",
                "--tokens", "4", "--threads", "1");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().startsWith("stepslm bench serve: "), r.out());
        // clients, requests, wall s, req/s, tok/s, TTFT p50/p99, ITL p50/p99, scaling
        assertEquals(1, r.count(" +2 +2 +\\d+\\.\\d +\\d+\\.\\d\\d +\\d+\\.\\d( +\\d+\\.\\d){4} +\\d+\\.\\d\\dx"),
                r.out());
    }

    @Test
    void generateTimesEachModelEarlyAndLateAndRefusesAPeerFolderWithoutTheScript(@TempDir Path dir)
            throws IOException {
        Path source = dir.resolve("src");
        Files.createDirectories(source);
        Files.writeString(source.resolve("a.txt"), "ROMEO: It is a truth universally acknowledged. ".repeat(200));
        Path tokenizer = dir.resolve("tokenizer.json");
        new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(source.resolve("a.txt"))).tokenizer().save(tokenizer);
        Run r = bench("generate", "--tokenizer", tokenizer.toString(), "--models", "llama,gpt2,steps", "--width", "32",
                "--blocks", "2", "--heads", "4", "--context", "48", "--threads", "1", "--tokens", "40");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().startsWith("stepslm bench generate: "), r.out());
        for (String m : List.of("llama", "gpt2", "steps")) {
            // system, threads, prompt tok/s, gen tok/s, early ms, late ms, late/early
            assertEquals(1, r.count("stepslm " + m + " +1 +\\d+\\.\\d +\\d+\\.\\d +\\d+\\.\\d"
                    + " +\\d+\\.\\d\\d +\\d+\\.\\d\\d +\\d+\\.\\d\\d"), m + " row in\n" + r.out());
        }
        Run noScript = bench("generate", "--tokenizer", tokenizer.toString(), "--peer-gguf", tokenizer.toString(),
                "--peer-dir", dir.toString());
        assertEquals(1, noScript.exit(), noScript.out());
        assertTrue(noScript.err().contains("has no llamacpp_gen.mjs"), noScript.err());
    }

    @Test
    void dataNeedsASourceAndMeasuresStreamingPrepareAndShards(@TempDir Path dir) throws IOException {
        Run missing = bench("data");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("--source"), missing.err());

        Path source = novels(dir.resolve("novels"));
        Path tokenizer = dir.resolve("tokenizer.json");
        new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(source.resolve("a.txt"))).tokenizer()
                .save(tokenizer);
        Run r = bench("data", "--source", source.toString(), "--work", dir.resolve("work").toString(),
                "--tokenizer", tokenizer.toString(), "--corpus-mb", "1", "--block-size", "32",
                "--sample-seconds", "0.2");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().startsWith("bench data: "), r.out());
        assertEquals(1, r.count("bench data: \\d{4}-\\d\\d-\\d\\d, .+, Java \\S+, T=32"), r.out());
        assertEquals(1, r.count("corpus: .*, 1\\.\\d MB of text in \\d+\\.\\d MB of gzip files"), r.out());
        String rate = "\\d+\\.\\d\\d MB/s, \\d+\\.\\d\\d M tokens/s";
        assertEquals(1, r.count("streaming, 1 thread: 1\\.\\d MB in \\d+\\.\\d s = " + rate + ", [\\d,]+ windows; "
                + "\\d+\\.\\d CPU-s = \\d+\\.\\d\\d MB per CPU-second \\| peer, tokenizer alone in memory: " + rate
                + ", \\d+\\.\\d\\d MB per CPU-second"), r.out());
        assertEquals(1, r.count("prepare, \\d+ threads: [\\d,]+ train tokens in \\d+\\.\\d s = " + rate
                + "; \\d+\\.\\d\\d MB per CPU-second"), r.out());
        assertEquals(1, r.count("shards, 1 thread: random windows \\d+\\.\\d M tokens/s, in-order windows "
                + "\\d+\\.\\d M tokens/s \\| peer, random windows copied from an int\\[\\] on the heap: "
                + "\\d+\\.\\d M tokens/s"), r.out());
    }

    @Test
    void tokenizerTrainsAndEncodesNextToHuggingFaceWithIdenticalIds(@TempDir Path dir) throws IOException {
        Run missing = bench("tokenizer", "--no-hf-train");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("--input"), missing.err());

        Path source = novels(dir.resolve("novels"));
        Run r = bench("tokenizer", "--input", source.toString(), "--repeats", "1", "--vocab-size", "300",
                "--no-hf-train");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertEquals(1, r.count("stepslm bench tokenizer, \\d{4}-\\d\\d-\\d\\d, .+, java \\S+"), r.out());
        assertEquals(1, r.count("  stepslm BpeTrainer +best +\\d+\\.\\d\\d s +median +\\d+\\.\\d\\d s +vocab 300"),
                r.out());
        assertEquals(1, r.count("  stepslm 1 thread +\\d+\\.\\d MB/s \\(best; median \\d+\\.\\d\\) +warm cache "
                + "\\d+\\.\\d MB/s"), r.out());
        assertEquals(1, r.count("  djl HF batchEncode\\(\\) +\\d+\\.\\d MB/s \\(best; median \\d+\\.\\d\\)"),
                r.out());
        assertTrue(r.out().contains("ids identical to HF on every paragraph: yes"), r.out());
        assertFalse(r.out().contains("HF tokenizers 0.23.2 (node)"), "no node peer with --no-hf-train");
    }

    /** Two small "novels" of paragraphs of random words, about 100 KB each. */
    static Path novels(Path dir) throws IOException {
        Files.createDirectories(dir);
        String[] words = {"the", "of", "Elizabeth", "said", "Darcy", "and", "to", "her", "sister", "was", "not",
            "very", "much", "pleased", "with", "Mr.", "Bennet's", "letter", "—", "café", "naïve"};
        SplittableRandom random = new SplittableRandom(7);
        for (String name : List.of("a.txt", "b.txt")) {
            StringBuilder text = new StringBuilder();
            while (text.length() < 100_000) {
                for (int w = 0; w < 40; w++) {
                    text.append(words[random.nextInt(words.length)]).append(w % 12 == 11 ? ".\n" : " ");
                }
                text.append("\n\n");
            }
            Files.writeString(dir.resolve(name), text);
        }
        return dir;
    }
}
