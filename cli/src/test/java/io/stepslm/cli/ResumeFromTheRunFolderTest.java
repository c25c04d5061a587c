package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's resume command, {@code train --resume R --max-steps N} with no data flags, continues on the data the
 * run stored in its folder and ends bit for bit as a run trained straight to N (text files and shards); a data flag
 * that disagrees is refused; a checkpoint folder continues in its run folder or in --out; a folder whose run died
 * before its first checkpoint is not a run (issue 13, items 2, 3 and 4).
 */
class ResumeFromTheRunFolderTest {

    @TempDir
    Path dir;
    Path corpus;

    @BeforeEach
    void corpus() throws IOException {
        corpus = Files.writeString(dir.resolve("austen.txt"), BuiltinCorpus.text().substring(0, 60_000));
    }

    /**
     * A constant learning rate, so that a run trained to 4 steps and resumed to 8 follows the schedule of a run
     * trained straight to 8; an evaluation and a checkpoint at step 4 in both.
     */
    private static List<String> train(List<String> data, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", "char-tiny", "--preset", "tiny", "--schedule",
                "constant", "--warmup", "0", "--batch-size", "2", "--context", "16", "--log-interval", "1",
                "--eval-interval", "4", "--eval-batches", "2", "--checkpoint-interval", "4", "--keep", "5"));
        a.addAll(data);
        a.addAll(List.of(more));
        return a;
    }

    private static CliRun ok(List<String> args) {
        CliRun r = ErrorMessagesTest.quietly(() -> CliRun.of(args.toArray(String[]::new)));
        assertEquals(0, r.exit(), args + ": " + r.err());
        return r;
    }

    /** Like {@link #ok}, returning what the run printed to System.out. */
    private static String log(List<String> args) {
        return CliRun.stdout(() -> CliRun.of(args.toArray(String[]::new)), 0);
    }

    private static CliRun refused(String... args) {
        CliRun r = ErrorMessagesTest.quietly(() -> CliRun.of(args));
        assertEquals(1, r.exit(), List.of(args) + ": " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        return r;
    }

    private void resumesWithoutDataFlagsAsTheStraightRun(List<String> data) throws IOException {
        Path straight = dir.resolve("straight");
        Path run = dir.resolve("run");
        ok(train(data, "--max-steps", "8", "--out", straight.toString()));
        ok(train(data, "--max-steps", "4", "--out", run.toString()));
        String resumed = log(List.of("train", "--resume", run.toString(), "--max-steps", "8"));
        assertTrue(resumed.contains("data: from the run folder (" + run.resolve("data.json") + ")"), resumed);
        ResumeThroughTheCliTest.assertSameRun(straight, run, 8, "resumed without data flags");
    }

    @Test
    void theReadmeResumeCommandNeedsNoDataFlagsOnText() throws IOException {
        resumesWithoutDataFlagsAsTheStraightRun(List.of("--char", "--input", corpus.toString()));
        // a data flag that disagrees with the stored data is refused naming the flag, the stored value and the fix
        Path other = Files.writeString(dir.resolve("other.txt"), "other text");
        CliRun r = refused("train", "--resume", dir.resolve("run").toString(), "--max-steps", "12", "--input",
                other.toString());
        assertTrue(r.err().contains("--input [" + other + "] does not match the data this run was trained on: "
                + dir.resolve("run/data.json") + " holds --input [" + corpus + "]; drop --input to resume on the "
                + "run's own data, or start a new run with --out"), r.err());
        r = refused("train", "--resume", dir.resolve("run").toString(), "--max-steps", "12", "--val-fraction", "0.2");
        assertTrue(r.err().contains("--val-fraction 0.2 does not match") && r.err().contains("--val-fraction 0.1"),
                r.err());
        // the same flag and value as stored is no override
        ok(List.of("train", "--resume", dir.resolve("run").toString(), "--max-steps", "9", "--char", "--input",
                corpus.toString()));
    }

    @Test
    void theReadmeResumeCommandNeedsNoDataFlagsOnShards() throws IOException {
        ResumeThroughTheCliTest.Shards shards = ResumeThroughTheCliTest.Shards.prepare(dir, corpus);
        resumesWithoutDataFlagsAsTheStraightRun(List.of("--shards", shards.data().toString(), "--tokenizer",
                shards.tokenizer().toString()));
    }

    @Test
    void aCheckpointFolderContinuesInItsRunFolderOrInOut() throws IOException {
        Path run = dir.resolve("run");
        ok(train(List.of("--char", "--input", corpus.toString()), "--max-steps", "8", "--out", run.toString()));
        Path step4 = run.resolve("checkpoints/step-000004");

        // --out: a new run folder seeded from the checkpoint, on the data the checkpoint's run stored
        Path branch = dir.resolve("branch");
        String seeded = log(List.of("train", "--resume", step4.toString(), "--max-steps", "8", "--out",
                branch.toString()));
        assertTrue(seeded.contains("resume: " + step4 + ", continuing in the new run folder " + branch + " (--out; "
                + run + " stays as it is)"), seeded);
        assertTrue(Files.exists(branch.resolve("data.json")), "the new run folder stores its data");
        ResumeThroughTheCliTest.assertSameRun(run, branch, 8, "continued from step 4 in --out");
        CliRun again = refused("train", "--resume", step4.toString(), "--max-steps", "8", "--out", branch.toString());
        assertTrue(again.err().contains("the run folder " + branch + " already holds a training run"), again.err());

        // no --out: the run folder the checkpoint belongs to, said on one line
        String here = log(List.of("train", "--resume", step4.toString(), "--max-steps", "10"));
        assertTrue(here.contains("resume: " + step4 + ", continuing in its run folder " + run + "\n"), here);
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-000010")));
        assertFalse(Files.exists(dir.resolve("checkpoints")), "nothing is written beside the run folder");

        // a checkpoint outside any run folder needs --out
        Path copy = dir.resolve("copied/step-000004");
        copyTree(step4, copy);
        CliRun lone = refused("train", "--resume", copy.toString(), "--max-steps", "8");
        assertTrue(lone.err().contains("the checkpoint " + copy + " is not inside a run folder")
                && lone.err().contains("--out"), lone.err());
    }

    @Test
    void aFolderWhoseRunDiedBeforeItsFirstCheckpointIsNotARun() throws IOException {
        Path run = dir.resolve("dead");
        Files.createDirectories(run.resolve("checkpoints"));
        String stale = "{\"type\":\"train\",\"step\":1,\"loss\":4.2}\n";
        Files.writeString(run.resolve("metrics.jsonl"), stale);

        CliRun nothing = refused("train", "--resume", run.toString(), "--max-steps", "8");
        assertTrue(nothing.err().contains("nothing to resume in " + run + ": it holds no checkpoint")
                && nothing.err().contains("start it afresh with --out " + run), nothing.err());

        String fresh = log(train(List.of("--char", "--input", corpus.toString()), "--max-steps", "4", "--out",
                run.toString()));
        assertTrue(fresh.contains("starting afresh in " + run + ": it held no checkpoint"), fresh);
        assertEquals(stale, Files.readString(run.resolve("stale-metrics.jsonl")), "the old metrics are kept aside");
        assertEquals(4, KilledRun.metrics(run, "train", "loss").size(), "only the new run's records");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        AtomicFiles.deleteRecursively(to);
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
