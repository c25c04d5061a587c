package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.datasets.BuiltinCorpus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train -> eval -> generate through the command line, as the README shows them, on a slice of the built-in corpus. */
class TrainEvalGenerateCommandTest {

    /** These commands print their results on System.out: capture it around one invocation. */
    private static String stdout(Supplier<CliRun> invocation, int expectedExit) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        CliRun run;
        try {
            run = invocation.get();
        } finally {
            System.setOut(saved);
        }
        assertEquals(expectedExit, run.exit(), run.err());
        return buffer.toString(StandardCharsets.UTF_8);
    }

    @Test
    void modelConfigFileOverridesThePresetAndIsStoredInTheCheckpoint(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("austen.txt");
        Files.writeString(corpus, BuiltinCorpus.text().substring(0, 30_000), StandardCharsets.UTF_8);
        Path overrides = dir.resolve("llama.json");
        Files.writeString(overrides, "{\"positions\": \"ROTARY\", \"norm\": \"RMS_NORM\", \"mlp\": \"SWIGLU\"}");
        Path run = dir.resolve("run");
        stdout(() -> CliRun.of("train", "--char", "--data", corpus.toString(), "--model", "char-tiny", "--model-config",
                overrides.toString(), "--preset", "tiny", "--max-steps", "4", "--batch-size", "2", "--context", "16",
                "--threads", "1", "--out", run.toString()), 0);
        String stored = Files.readString(run.resolve("checkpoints/step-000004/model/config.json"));
        assertTrue(stored.contains("ROTARY") && stored.contains("RMS_NORM") && stored.contains("SWIGLU"), stored);

        Path run3 = dir.resolve("run3");
        stdout(() -> CliRun.of("train", "--char", "--data", corpus.toString(), "--positions", "rotary", "--norm", "rms",
                "--preset", "tiny", "--max-steps", "2", "--batch-size", "2", "--context", "16", "--threads", "1",
                "--out", run3.toString()), 0);
        String flagged = Files.readString(run3.resolve("checkpoints/step-000002/model/config.json"));
        assertTrue(flagged.contains("ROTARY") && flagged.contains("RMS_NORM") && flagged.contains("GELU"), flagged);
        CliRun wrong = CliRun.of("train", "--char", "--data", corpus.toString(), "--positions", "sinusoidal",
                "--preset", "tiny", "--max-steps", "2", "--out", dir.resolve("run4").toString());
        assertEquals(1, wrong.exit());
        assertTrue(wrong.err().contains("--positions must be learned or rotary"), wrong.err());

        Path missing = dir.resolve("nope.json");
        CliRun bad = CliRun.of("train", "--char", "--data", corpus.toString(), "--model-config", missing.toString(),
                "--preset", "tiny", "--max-steps", "4", "--out", dir.resolve("run2").toString());
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("--model-config " + missing + " does not exist"), bad.err());
    }

    @Test
    void aSmallRunTrainsEvaluatesAndGenerates(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("austen.txt");
        Files.writeString(corpus, BuiltinCorpus.text().substring(0, 60_000), StandardCharsets.UTF_8);
        Path run = dir.resolve("run");

        String trained = stdout(() -> CliRun.of("train", "--char", "--data", corpus.toString(), "--model", "char-tiny",
                "--preset", "tiny", "--max-steps", "40", "--eval-interval", "20", "--eval-batches", "4", "--batch-size", "4",
                "--context", "32", "--threads", "1", "--out", run.toString()), 0);
        assertTrue(trained.contains("val loss"), trained);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/best")), "best checkpoint");
        assertTrue(Files.isRegularFile(run.resolve("report.html")), "report");

        String json = stdout(() -> CliRun.of("eval", "--checkpoint", run.toString(), "--context", "32", "--json",
                corpus.toString()), 0);
        JsonObject total = JsonParser.parseString(json.substring(json.indexOf('{'))).getAsJsonObject().getAsJsonObject("total");
        double perplexity = total.get("perplexity").getAsDouble();
        assertTrue(perplexity > 1 && perplexity < 66, "perplexity " + perplexity + " must beat a uniform guess");

        String text = stdout(() -> CliRun.of("generate", "--checkpoint", run.toString(), "--prompt", "It is a truth",
                "--tokens", "40", "--seed", "3"), 0);
        assertTrue(text.startsWith("It is a truth") && text.length() > "It is a truth".length() + 10, text);
        assertEquals(text, stdout(() -> CliRun.of("generate", "--checkpoint", run.toString(), "--prompt", "It is a truth",
                "--tokens", "40", "--seed", "3"), 0), "same seed, same text");
    }

    @Test
    void preparedShardsTrainThroughTheCommandLine(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("austen.txt");
        Files.writeString(corpus, BuiltinCorpus.text().substring(0, 80_000), StandardCharsets.UTF_8);
        Path tok = dir.resolve("tokenizer.json");
        assertEquals(0, CliRun.of("tokenizer", "train", "--input", corpus.toString(), "--vocab-size", "400", "--out",
                tok.toString(), "--quiet").exit());
        Path data = dir.resolve("data");
        CliRun prepared = CliRun.of("data", "prepare", "--input", corpus.toString(), "--format", "blocks", "--val-fraction", "0.2",
                "--tokenizer", tok.toString(), "--out", data.toString(), "--quiet");
        assertEquals(0, prepared.exit(), prepared.err());
        Path run = dir.resolve("run");
        String trained = stdout(() -> CliRun.of("train", "--shards", data.toString(), "--tokenizer", tok.toString(),
                "--model", "char-tiny", "--preset", "tiny", "--max-steps", "20", "--eval-interval", "10", "--eval-batches", "2",
                "--batch-size", "4", "--context", "32", "--threads", "1", "--out", run.toString()), 0);
        assertTrue(trained.contains("val loss"), trained);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/best")), "best checkpoint");

        // shards of another tokenizer are refused by name
        Path other = dir.resolve("other.json");
        assertEquals(0, CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--out", other.toString()).exit());
        CliRun mismatch = CliRun.of("train", "--shards", data.toString(), "--tokenizer", other.toString(), "--model", "char-tiny",
                "--max-steps", "1", "--out", dir.resolve("run2").toString());
        assertEquals(1, mismatch.exit());
        assertTrue(mismatch.err().contains("tokenizer"), mismatch.err());
    }

    @Test
    void badInputsGiveOneClearLine(@TempDir Path dir) {
        CliRun missing = CliRun.of("generate", "--checkpoint", dir.resolve("nope").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("stepslm generate: error:") && missing.err().contains("nope"), missing.err());

        CliRun badSampling = CliRun.of("generate", "--checkpoint", dir.toString(), "--temperature", "-1");
        assertEquals(1, badSampling.exit());
        assertTrue(badSampling.err().contains("temperature"), badSampling.err());

        CliRun gpu = CliRun.of("train", "--char", "--device", "gpu:3", "--out", dir.resolve("r").toString(), "--max-steps", "1");
        assertEquals(1, gpu.exit());
        assertTrue(gpu.err().contains("GPU"), gpu.err());
    }
}
