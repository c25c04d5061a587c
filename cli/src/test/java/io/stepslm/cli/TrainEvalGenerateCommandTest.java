package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.datasets.BuiltinCorpus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train -> eval -> generate through the command line, as the README shows them, on a slice of the built-in corpus. */
class TrainEvalGenerateCommandTest {

    @Test
    void modelConfigFileOverridesThePresetAndIsStoredInTheCheckpoint(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("austen.txt");
        Files.writeString(corpus, BuiltinCorpus.text().substring(0, 30_000), StandardCharsets.UTF_8);
        Path overrides = dir.resolve("llama.json");
        Files.writeString(overrides, "{\"positions\": \"ROTARY\", \"norm\": \"RMS_NORM\", \"mlp\": \"SWIGLU\"}");
        Path run = dir.resolve("run");
        CliRun.stdout(() -> CliRun.of("train", "--char", "--data", corpus.toString(), "--model", "char-tiny",
                "--model-config", overrides.toString(), "--preset", "tiny", "--max-steps", "4", "--batch-size", "2",
                "--context", "16", "--threads", "1", "--out", run.toString()), 0);
        String stored = Files.readString(run.resolve("checkpoints/step-000004/model/config.json"));
        assertTrue(stored.contains("ROTARY") && stored.contains("RMS_NORM") && stored.contains("SWIGLU"), stored);

        Path run3 = dir.resolve("run3");
        CliRun.stdout(() -> CliRun.of("train", "--char", "--data", corpus.toString(), "--positions", "rotary",
                "--norm", "rms", "--preset", "tiny", "--max-steps", "2", "--batch-size", "2", "--context", "16",
                "--threads", "1", "--out", run3.toString()), 0);
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

        String trained = CliRun.stdout(() -> CliRun.of("train", "--char", "--data", corpus.toString(),
                "--model", "char-tiny", "--preset", "tiny", "--max-steps", "150", "--eval-interval", "75",
                "--eval-batches", "4", "--batch-size", "4", "--context", "32", "--threads", "1",
                "--out", run.toString()), 0);
        assertTrue(trained.contains("val loss"), trained);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/best")), "best checkpoint");
        assertTrue(Files.isRegularFile(run.resolve("report.html")), "report");

        // Score text the model never saw, against the best model that ignores context: the training text's
        // character frequencies (perplexity about 22 here; a uniform guess over the vocabulary would be 70).
        String heldOut = BuiltinCorpus.text().substring(80_000, 90_000);
        Path heldOutFile = dir.resolve("held-out.txt");
        Files.writeString(heldOutFile, heldOut, StandardCharsets.UTF_8);
        String json = CliRun.stdout(() -> CliRun.of("eval", "--checkpoint", run.toString(), "--context", "32", "--json",
                heldOutFile.toString()), 0);
        JsonObject total = JsonParser.parseString(json.substring(json.indexOf('{'))).getAsJsonObject()
                .getAsJsonObject("total");
        double perplexity = total.get("perplexity").getAsDouble();
        double unigram = unigramPerplexity(Files.readString(corpus), heldOut);
        assertTrue(unigram > 15 && unigram < 30, "unigram perplexity " + unigram);
        assertTrue(perplexity > 1 && perplexity < 0.9 * unigram, "held-out perplexity " + perplexity
                + " must beat character frequencies (" + unigram + ")");

        String text = CliRun.stdout(() -> CliRun.of("generate", "--checkpoint", run.toString(),
                "--prompt", "It is a truth", "--tokens", "40", "--seed", "3"), 0);
        assertTrue(text.startsWith("It is a truth") && text.length() > "It is a truth".length() + 10, text);
        assertEquals(text, CliRun.stdout(() -> CliRun.of("generate", "--checkpoint", run.toString(),
                "--prompt", "It is a truth", "--tokens", "40", "--seed", "3"), 0), "same seed, same text");

        // a huge --tokens allocates nothing up front; the stop string ends it, and --json reports why
        String stopped = CliRun.stdout(() -> CliRun.of("generate", "--checkpoint", run.toString(), "--prompt", "It is",
                "--tokens", "2000000000", "--stop", "e", "--stop", " ", "--stop", "a", "--temperature", "1", "--json"),
                0);
        JsonObject g = JsonParser.parseString(stopped.strip()).getAsJsonObject();
        assertEquals("stop_string", g.get("stop_reason").getAsString(), stopped);
        String text2 = g.get("text").getAsString();
        assertTrue(!text2.contains("e") && !text2.contains(" ") && g.get("generated_tokens").getAsInt() >= 1, stopped);
        assertTrue(g.get("generation_tokens_per_second").getAsDouble() >= 0 && g.has("prompt_tokens_per_second"));

        // one prompt per document of a prompt file, each with its own JSON line
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "Elizabeth<|endoftext|>Mr. Darcy<|endoftext|>", StandardCharsets.UTF_8);
        String lines = CliRun.stdout(() -> CliRun.of("generate", "--checkpoint", run.toString(), "--prompt-file",
                prompts.toString(), "--per-document", "--tokens", "5", "--min-p", "0.05", "--repeat-penalty", "1.1",
                "--presence-penalty", "0.5", "--frequency-penalty", "0.1", "--json"), 0);
        String[] objects = lines.strip().split("\n");
        assertEquals(2, objects.length, lines);
        assertEquals("Mr. Darcy", JsonParser.parseString(objects[1]).getAsJsonObject().get("prompt").getAsString());
        assertEquals(5, JsonParser.parseString(objects[0]).getAsJsonObject().get("generated_tokens").getAsInt());
    }

    /** exp of the cross-entropy of {@code text} under the character frequencies of {@code training}. */
    static double unigramPerplexity(String training, String text) {
        java.util.Map<Integer, Integer> counts = new java.util.HashMap<>();
        training.codePoints().forEach(c -> counts.merge(c, 1, Integer::sum));
        long n = training.codePoints().count();
        double nll = text.codePoints().mapToDouble(c -> -Math.log(counts.get(c) / (double) n)).sum();
        return Math.exp(nll / text.codePoints().count());
    }

    @Test
    void preparedShardsTrainThroughTheCommandLine(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("austen.txt");
        Files.writeString(corpus, BuiltinCorpus.text().substring(0, 80_000), StandardCharsets.UTF_8);
        Path tok = dir.resolve("tokenizer.json");
        assertEquals(0, CliRun.of("tokenizer", "train", "--input", corpus.toString(), "--vocab-size", "400", "--out",
                tok.toString(), "--quiet").exit());
        Path data = dir.resolve("data");
        CliRun prepared = CliRun.of("data", "prepare", "--input", corpus.toString(), "--format", "blocks",
                "--val-fraction", "0.2",
                "--tokenizer", tok.toString(), "--out", data.toString(), "--quiet");
        assertEquals(0, prepared.exit(), prepared.err());
        Path run = dir.resolve("run");
        String trained = CliRun.stdout(() -> CliRun.of("train", "--shards", data.toString(),
                "--tokenizer", tok.toString(), "--model", "char-tiny", "--preset", "tiny", "--max-steps", "20",
                "--eval-interval", "10", "--eval-batches", "2", "--batch-size", "4", "--context", "32",
                "--threads", "1", "--out", run.toString()), 0);
        assertTrue(trained.contains("val loss"), trained);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/best")), "best checkpoint");

        // shards of another tokenizer are refused by name
        Path other = dir.resolve("other.json");
        assertEquals(0, CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--out",
                other.toString()).exit());
        CliRun mismatch = CliRun.of("train", "--shards", data.toString(), "--tokenizer", other.toString(), "--model",
                "char-tiny",
                "--max-steps", "1", "--out", dir.resolve("run2").toString());
        assertEquals(1, mismatch.exit());
        assertTrue(mismatch.err().contains("tokenizer"), mismatch.err());
    }

    @Test
    void badInputsGiveOneClearLine(@TempDir Path dir) {
        CliRun missing = CliRun.of("generate", "--checkpoint", dir.resolve("nope").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("stepslm generate: error:") && missing.err().contains("nope"),
                missing.err());

        CliRun badSampling = CliRun.of("generate", "--checkpoint", dir.toString(), "--temperature", "-1");
        assertEquals(1, badSampling.exit());
        assertTrue(badSampling.err().contains("temperature"), badSampling.err());

        CliRun badMinP = CliRun.of("generate", "--checkpoint", dir.toString(), "--min-p", "2");
        assertEquals(1, badMinP.exit());
        assertTrue(badMinP.err().contains("min-p 2.0"), badMinP.err());

        CliRun gpu = CliRun.of("train", "--char", "--device", "gpu:3", "--out", dir.resolve("r").toString(),
                "--max-steps", "1");
        assertEquals(1, gpu.exit());
        assertTrue(gpu.err().contains("GPU"), gpu.err());
    }
}
