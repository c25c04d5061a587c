package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.files.ProcessLock;
import io.stepslm.model.ModelFiles;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stepslm experiment steps-vs-plain} with tiny settings on slices of the built-in corpus: the report's numbers
 * are what {@code stepslm eval} gives on the checkpoints it trained, its pairs are parameter-matched, a second
 * invocation reuses every finished run, and {@code stepslm diagnose} reads the same checkpoints.
 */
class ExperimentCommandTest {

    @Test
    void tinyExperimentReportsWhatEvalGivesAndResumes(@TempDir Path dir) throws Exception {
        Path data = corpus(dir, 4, 25_000, 6_000);
        Path held = data.resolve("held.txt");
        Path out = dir.resolve("out");
        String[] args = {"experiment", "steps-vs-plain", "--preset", "tiny", "--data", data.toString(), "--val-file",
            "held.txt", "--out", out.toString(), "--threads", "1", "--workers", "1"};
        String first = CliRun.stdout(() -> CliRun.of(args), 0);
        assertTrue(first.contains("complete"), first);

        JsonObject results = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject();
        JsonArray runs = results.getAsJsonArray("runs");
        assertEquals(6, runs.size(), "1 pair x 2 seeds x (plain, steps, steps-time)");
        assertEquals(0, results.getAsJsonArray("pending").size());
        Map<String, Long> parameters = new HashMap<>();
        for (JsonElement e : runs) {
            JsonObject r = e.getAsJsonObject();
            Path checkpoint = out.resolve(r.get("checkpoint").getAsString());
            String json = CliRun.stdout(() -> CliRun.of("eval", "--checkpoint", checkpoint.toString(), "--json",
                    "--threads", "1", held.toString()), 0);
            JsonObject total = JsonParser.parseString(json.substring(json.indexOf('{'))).getAsJsonObject()
                    .getAsJsonObject("total");
            String name = r.get("name").getAsString();
            assertEquals(total.get("loss").getAsDouble(), r.get("valLoss").getAsDouble(), 1e-9, name);
            assertEquals(total.get("perplexity").getAsDouble(), r.get("perplexity").getAsDouble(), 1e-9, name);
            assertEquals(total.get("bitsPerByte").getAsDouble(), r.get("bitsPerByte").getAsDouble(), 1e-9, name);
            assertEquals(total.get("tokens").getAsLong(), r.get("evalTokens").getAsLong(), name);
            ModelConfig model = ModelFiles.readConfig(checkpoint.resolve("model"));
            long counted = Diagnostics.parameterCount(model, true);
            assertEquals(counted, r.get("parameters").getAsLong(), name);
            parameters.put(r.get("kind").getAsString() + r.get("seed").getAsLong(), counted);
            assertEquals(r.get("kind").getAsString().equals("plain") ? 1 : 3, model.steps().size(), name);
        }
        for (long seed : new long[] {0, 1}) {
            double mismatch = (double) parameters.get("steps" + seed) / parameters.get("plain" + seed) - 1;
            assertTrue(Math.abs(mismatch) <= 0.02, "parameter-matched within 2 %: " + mismatch);
            assertEquals(parameters.get("steps" + seed), parameters.get("steps-time" + seed));
        }
        JsonObject summary = results.getAsJsonArray("pairs").get(0).getAsJsonObject();
        double plainMean = (runs.get(0).getAsJsonObject().get("valLoss").getAsDouble()
                + runs.get(3).getAsJsonObject().get("valLoss").getAsDouble()) / 2;
        assertEquals(plainMean, summary.getAsJsonObject("plainLoss").get("mean").getAsDouble(), 1e-12,
                "the summary averages the seeds' scores (runs in plan order: plain, steps, steps-time per seed)");
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("data:image/png;base64,") && !html.contains("pending"), "self-contained, complete");

        // a second invocation trains nothing: every run is reused from its result.json
        String again = CliRun.stdout(() -> CliRun.of(args), 0);
        // 4 equal-token runs, then plain, steps and steps-time of both seeds for the time-matched phase
        assertEquals(10, again.split("\\(reused\\)", -1).length - 1, again);
        assertTrue(!again.contains(": training "), again);
        assertEquals(results.getAsJsonArray("runs"),
                JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject()
                        .getAsJsonArray("runs"));

        // diagnose reads the same checkpoints: ratio 1 at the embedding, a table, a JSON file and a chart
        Path steps = out.resolve(runs.get(1).getAsJsonObject().get("checkpoint").getAsString());
        Path diag = dir.resolve("diag");
        String table = CliRun.stdout(() -> CliRun.of("diagnose", "--checkpoint", steps.toString(), "--threads", "1",
                "--batches", "2", "--out", diag.toString(), held.toString()), 0);
        assertTrue(table.contains("embedding") && table.contains("step ablation"), table);
        JsonObject d = JsonParser.parseString(Files.readString(diag.resolve("diagnosis.json"))).getAsJsonObject();
        JsonObject embedding = d.getAsJsonArray("ratios").get(0).getAsJsonObject();
        assertEquals(1.0, embedding.get("slice").getAsDouble(), 1e-12);
        assertEquals(5, d.getAsJsonArray("ratios").size(), "the embedding and 4 blocks");
        assertEquals(3, d.getAsJsonArray("skippedSteps").size());
        assertTrue(Files.size(diag.resolve("shortcut-ratio.png")) > 1000, "chart");
    }

    /**
     * {@code --workers 2} starts a second process; the two share the runs by claiming (pair, seed) groups, so every
     * run is trained exactly once and the report is complete. A group another process holds is skipped and left
     * pending, named with the holder's pid (here this JVM holds the claim of seed 1's group).
     */
    @Test
    void workersShareTheRunsAndSkipAGroupAnotherProcessHolds(@TempDir Path dir) throws Exception {
        Path data = corpus(dir, 3, 20_000, 4_000);
        Path out = dir.resolve("out");
        List<String> common = List.of("experiment", "steps-vs-plain", "--preset", "tiny", "--data", data.toString(),
                "--val-file", "held.txt", "--out", out.toString(), "--seeds", "0,1,2");

        Path claim = out.resolve("runs").resolve(".a-s1.lock");
        try (ProcessLock held = ProcessLock.acquire(claim, "seed 1", "-")) {
            String partial = CliRun.stdout(() -> CliRun.of(with(common, "--workers", "1", "--threads", "1")), 0);
            assertTrue(partial.contains("a-s1: in training by another process (pid " + ProcessHandle.current().pid()
                    + "), skipped here"), partial);
            assertTrue(partial.contains("3 runs pending"), partial);
            assertTrue(!partial.contains("a-plain-s1"), partial);
        }

        String shared = CliRun.stdout(() -> CliRun.of(with(common, "--workers", "2", "--threads", "1")), 0);
        assertTrue(shared.contains("2 worker process(es), 1 libtorch thread(s) each"), shared);
        assertTrue(shared.contains("[worker 2] started, pid "), shared);
        assertTrue(shared.contains("complete"), shared);
        Map<String, Integer> trained = new HashMap<>();
        for (String line : shared.split("\n")) {
            String l = line.replaceFirst("^\\[worker \\d+\\] ", "");
            if (l.contains(": training ")) {
                trained.merge(l.substring(0, l.indexOf(':')), 1, Integer::sum);
            }
        }
        assertTrue(trained.containsKey("a-plain-s1") && trained.containsKey("a-steps-s1"), shared);
        trained.forEach((run, times) -> assertEquals(1, times, run + " trained once: " + shared));
        JsonObject results = JsonParser.parseString(Files.readString(out.resolve("results.json"))).getAsJsonObject();
        assertEquals(9, results.getAsJsonArray("runs").size(), "3 seeds x (plain, steps, steps-time)");
        assertEquals(0, results.getAsJsonArray("pending").size());
    }

    /** {@code files} training slices of the built-in corpus and a held-out {@code held.txt}, in {@code dir/data}. */
    private static Path corpus(Path dir, int files, int chars, int heldChars) throws java.io.IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        String text = BuiltinCorpus.text();
        for (int i = 0; i < files; i++) {
            Files.writeString(data.resolve("part" + i + ".txt"), text.substring(i * chars, (i + 1) * chars));
        }
        Files.writeString(data.resolve("held.txt"), text.substring(200_000, 200_000 + heldChars));
        return data;
    }

    private static String[] with(List<String> common, String... more) {
        List<String> a = new java.util.ArrayList<>(common);
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void badExperimentInputsGiveOneClearLine(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.txt"), "some text");
        CliRun noVal = CliRun.of("experiment", "steps-vs-plain", "--preset", "tiny", "--data", dir.toString(),
                "--val-file", "persuasion.txt", "--out", dir.resolve("o").toString());
        assertEquals(1, noVal.exit());
        assertTrue(noVal.err().contains("--val-file persuasion.txt is neither one of the --data files"), noVal.err());
        CliRun badPair = CliRun.of("experiment", "steps-vs-plain", "--pair", "x:100:4", "--out",
                dir.resolve("o").toString());
        assertEquals(1, badPair.exit());
        assertTrue(badPair.err().contains("NAME:WIDTH:DEPTH:HEADS"), badPair.err());
    }
}
