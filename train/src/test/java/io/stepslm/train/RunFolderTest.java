package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunFolderTest {

    @TempDir
    Path run;

    private static RunFolder.Content writing(String text) {
        return folder -> Files.writeString(folder.resolve("weights.bin"), text);
    }

    @Test
    void keepsTheLastKAndTheBest() throws IOException {
        RunFolder c = new RunFolder(run);
        for (int step = 10; step <= 40; step += 10) {
            c.save(step, writing("w" + step), 2);
        }
        c.saveBest(writing("best1"));
        c.saveBest(writing("best2"));
        assertEquals(List.of(c.checkpoints().resolve("step-000030"), c.checkpoints().resolve("step-000040")),
                c.stepCheckpoints());
        assertEquals("best2", Files.readString(c.checkpoints().resolve("best/weights.bin")));
        assertEquals(c.checkpoints().resolve("step-000040"), c.stepCheckpoints().get(1));
    }

    @Test
    void aRunFolderThatIsAFileIsRefusedByName() throws IOException {
        Path file = Files.writeString(run.resolve("notes.txt"), "not a folder");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RunFolder.requireNew(file));
        assertTrue(e.getMessage().contains(file + " is a file: choose another --out"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RunFolder.requireNew(file.resolve("run")));
        assertTrue(e.getMessage().contains("lies under " + file + ", which is a file"), e.getMessage());
        RunFolder.requireNew(run.resolve("new/run")); // a folder still to be created is fine
    }

    @Test
    void aFailureWhileSavingLeavesThePreviousCheckpointValid() throws IOException {
        RunFolder c = new RunFolder(run);
        c.save(10, writing("good"), 2);
        c.saveBest(writing("good-best"));
        RunFolder.Content diskFull = folder -> {
            Files.writeString(folder.resolve("weights.bin"), "half");
            throw new IOException("No space left on device");
        };
        IOException e = assertThrows(IOException.class, () -> c.save(20, diskFull, 1));
        assertTrue(e.getMessage().contains("previous checkpoints are intact"), e.getMessage());
        assertThrows(IOException.class, () -> c.saveBest(diskFull));
        assertEquals(List.of(c.checkpoints().resolve("step-000010")),
                c.stepCheckpoints());           // not pruned, nothing half-written
        assertEquals("good", Files.readString(c.checkpoints().resolve("step-000010/weights.bin")));
        assertEquals("good-best", Files.readString(c.checkpoints().resolve("best/weights.bin")));
        try (var s = Files.list(c.checkpoints())) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".tmp")));
        }
    }

    @Test
    void leftoversOfAKilledSaveAreIgnoredAndRemoved() throws IOException {
        RunFolder c = new RunFolder(run);
        c.save(10, folder -> new TrainState(10, 0, new double[4], "{}", 1, 1, 0, "f", 0).write(folder), 3);
        Files.createDirectories(c.checkpoints().resolve(".tmp-step-000020"));            // kill -9 during the next save
        assertEquals(c.checkpoints().resolve("step-000010"), RunFolder.resolveResume(run));
        // resolving reads only: the folder may belong to a live run whose lock is not taken yet
        assertTrue(Files.exists(c.checkpoints().resolve(".tmp-step-000020")));
        new RunFolder(run);
        assertFalse(Files.exists(c.checkpoints().resolve(".tmp-step-000020")));
        IOException e = assertThrows(IOException.class, () -> RunFolder.resolveResume(run.resolve("nothing")));
        assertTrue(e.getMessage().contains("no checkpoint to resume"), e.getMessage());
    }

    /**
     * A kill between the two renames that replace best/ (old best set aside, new one not yet renamed in) leaves the
     * only copies in {@code .tmp-best.old} and {@code .tmp-best}; opening the run folder puts the old best back (the
     * one the newest step checkpoint's state knows) instead of deleting both (issue 13, item 5).
     */
    @Test
    void aKillBetweenTheRenamesOfBestLosesNoCopy() throws IOException {
        RunFolder c = new RunFolder(run);
        c.saveBest(writing("best at step 10"));
        Path best = c.checkpoints().resolve("best");
        Files.move(best, c.checkpoints().resolve(".tmp-best.old"));            // the first rename of the next save
        Files.createDirectories(c.checkpoints().resolve(".tmp-best"));
        Files.writeString(c.checkpoints().resolve(".tmp-best/weights.bin"), "best at step 20");
        RunFolder reopened = new RunFolder(run);
        assertEquals("best at step 10", Files.readString(best.resolve("weights.bin")));
        assertEquals(1, reopened.recovered().size(), reopened.recovered().toString());
        assertTrue(reopened.recovered().get(0).startsWith("restored " + best + " from "), reopened.recovered().get(0));
        try (var s = Files.list(c.checkpoints())) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".tmp")), "the leftovers are gone");
        }
        // killed after both renames, before the old copy was deleted: the new best stays, the old copy goes
        Files.createDirectories(c.checkpoints().resolve(".tmp-best.old"));
        assertTrue(new RunFolder(run).recovered().isEmpty());
        assertEquals("best at step 10", Files.readString(best.resolve("weights.bin")));
        assertFalse(Files.exists(c.checkpoints().resolve(".tmp-best.old")));
    }

    @Test
    void metricsAndReportAreWritten() throws IOException {
        try (Metrics m = Metrics.open(run)) {
            for (int step = 0; step < 30; step += 10) {
                m.add(new Metrics.Train(step, 4.0 - step / 10.0, 1e-3, 0.5, 1000, 12, 1, null));
            }
            m.add(new Metrics.Eval(20, 2.5, Math.exp(2.5), null, null));
            TrainingReport.write(run, m, "test run", "{\"a\": 1}");
        }
        List<String> lines = Files.readAllLines(run.resolve(Metrics.FILE));
        assertEquals("{\"type\":\"train\",\"step\":0,\"loss\":4.0,\"lr\":0.001,\"gradNorm\":0.5,"
                + "\"tokensPerSec\":1000.0,\"msPerStep\":12.0,\"lossScale\":1.0}", lines.get(0)); // no "mfu": unknown
        assertEquals("{\"type\":\"eval\",\"step\":20,\"valLoss\":2.5,\"perplexity\":" + Math.exp(2.5) + "}",
                lines.get(3));
        try (Metrics again = Metrics.open(run)) {
            assertEquals(4, again.records().size());
            assertEquals(2.5, again.series("eval", "valLoss")[0][1]);
            try (Metrics cut = Metrics.openAt(run, again.lines().subList(0, 2))) {
                assertEquals(2, cut.records().size()); // resumed from a checkpoint taken after 2 records
            }
        }
        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("loss.png") && html.contains("2.5000"), html);
        assertTrue(Files.size(run.resolve("loss.png")) > 1000);
    }

    @Test
    void aNewRunRefusesAUsedFolderAndTheDemoClearsItsOwn() throws IOException {
        RunFolder.requireNew(run);                                       // empty: fine
        RunFolder c = new RunFolder(run);
        RunFolder.requireNew(run);                                       // only the empty checkpoints/ folder
        c.save(10, writing("w"), 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFolder.requireNew(run));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        RunFolder.clear(run);
        RunFolder.requireNew(run);
    }
}
