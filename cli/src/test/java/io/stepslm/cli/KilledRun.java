package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.childprocess.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * `stepslm train` in child JVMs: once straight through, and once killed with SIGKILL (kill -9) at random moments and
 * resumed each time, so that a test can compare what both left in their run folders. A checkpoint is written after
 * every step, so a random kill lands inside a checkpoint write about as often as inside a step.
 */
final class KilledRun {
    private static final Pattern STEP = Pattern.compile("^step (\\d+)/");
    private static final Duration CHILD_LIMIT = Duration.ofMinutes(5);

    private KilledRun() {}

    /** Runs {@code train <args> --out <run>} to the end in a child JVM. */
    static String straight(List<String> args, Path run) {
        try (ChildProcess c = child(args, List.of("--out", run.toString()))) {
            int exit = c.waitFor(CHILD_LIMIT);
            assertEquals(0, exit, c.output());
            return c.output();
        }
    }

    /**
     * Runs {@code train <args>} into {@code run}, killing it {@code kills} times (each after it has completed at least
     * one step beyond its last checkpoint, then after a random delay) and resuming it with {@code --resume run}, then
     * lets the last resumption finish. Returns how many of the kills found a newer checkpoint on the next start.
     */
    static int withKills(List<String> args, Path run, int kills, long seed) throws IOException {
        Random random = new Random(seed);
        int progressed = 0;
        int lastCheckpoint = -1;
        for (int k = 0; ; k++) {
            int checkpoint = newestCheckpoint(run);
            if (k > 0 && checkpoint > lastCheckpoint) {
                progressed++;
            }
            lastCheckpoint = checkpoint;
            // Until a run has its first checkpoint there is nothing to resume: start afresh in the same folder
            List<String> where = checkpoint < 0 ? List.of("--out", run.toString()) : List.of("--resume",
                    run.toString());
            try (ChildProcess c = child(args, where)) {
                if (k == kills) {
                    int exit = c.waitFor(CHILD_LIMIT);
                    assertEquals(0, exit, "the last resumption (after " + kills + " kills, seed " + seed + "):\n"
                            + c.output());
                    return progressed;
                }
                // at least one step past the checkpoint it started from, sometimes a few
                int target = Math.max(checkpoint, 0) + 1 + random.nextInt(3);
                String line = c.awaitLine(l -> {
                    Matcher m = STEP.matcher(l);
                    return m.find() && Integer.parseInt(m.group(1)) >= target;
                }, CHILD_LIMIT);
                assertTrue(line != null, "the run ended before step " + target + " (kill " + k + ", seed " + seed
                        + "):\n"
                        + c.output());
                sleep(random.nextInt(120)); // lands in the checkpoint write that follows the step, or in the next step
                c.kill();
            }
        }
    }

    /** The newest step-N checkpoint of {@code run} (a complete one: it has train-state.json), or -1. */
    static int newestCheckpoint(Path run) throws IOException {
        Path root = run.resolve("checkpoints");
        if (!Files.isDirectory(root)) {
            return -1;
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+")
                    && Files.exists(p.resolve("train-state.json")))
                    .mapToInt(p -> Integer.parseInt(p.getFileName().toString().substring(5))).max().orElse(-1);
        }
    }

    /** The {@code field} of every metrics.jsonl record of {@code type} ("train", "eval"), in order. */
    static List<Double> metrics(Path run, String type, String field) throws IOException {
        List<Double> values = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (o.get("type").getAsString().equals(type)) {
                values.add(o.get(field).getAsDouble());
            }
        }
        return values;
    }

    private static ChildProcess child(List<String> args, List<String> where) {
        List<String> all = new ArrayList<>(List.of("train"));
        all.addAll(args);
        all.addAll(where);
        return ChildProcess.java(List.of("-Xmx1g", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1"),
                StepsLm.class.getName(), all);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
