package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.childprocess.ChildProcess;
import io.stepslm.datasets.BuiltinCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two `train` processes on one run folder: the second refuses at once, naming the first one's pid, whether it
 * starts afresh or resumes; once the first is killed with kill -9 the OS has released its lock and the run resumes.
 */
class RunFolderLockTest {

    @Test
    void aSecondTrainingOnTheSameFolderIsRefusedNamingTheHolder(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("corpus.txt"), BuiltinCorpus.text().substring(0, 50_000));
        Path run = dir.resolve("run");
        List<String> common = List.of("--char", "--data", text.toString(), "--preset", "tiny", "--batch-size", "2",
                "--context", "16", "--log-interval", "1", "--checkpoint-interval", "2", "--threads", "1");
        List<String> first = new java.util.ArrayList<>(List.of("train", "--max-steps", "2000", "--out",
                run.toString()));
        first.addAll(common);
        try (ChildProcess holder = ChildProcess.java(List.of("-Xmx1g", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1"), StepsLm.class.getName(), first)) {
            assertNotNull(holder.awaitLine(l -> l.startsWith("step 3/"), Duration.ofMinutes(3)), holder.output());
            String pid = "pid " + holder.pid();
            CliRun fresh = ErrorMessagesTest.quietly(() -> CliRun.of(args(common, "--out", run.toString(), "4")));
            assertEquals(1, fresh.exit(), fresh.err());
            assertTrue(fresh.err().contains("the run folder " + run + " is in use by another stepslm process (" + pid
                    + ")"), fresh.err());
            CliRun resumed = ErrorMessagesTest.quietly(() -> CliRun.of(args(common, "--resume", run.toString(), "8")));
            assertEquals(1, resumed.exit(), resumed.err());
            assertTrue(resumed.err().contains(pid), resumed.err());
            holder.kill(); // kill -9: no shutdown hook runs, the OS drops the lock
        }
        String further = Integer.toString(KilledRun.newestCheckpoint(run) + 2);
        CliRun after = ErrorMessagesTest.quietly(() -> CliRun.of(args(common, "--resume", run.toString(), further)));
        assertEquals(0, after.exit(), after.err());
    }

    private static String[] args(List<String> common, String flag, String run, String maxSteps) {
        List<String> a = new java.util.ArrayList<>(List.of("train", flag, run, "--max-steps", maxSteps));
        a.addAll(common);
        return a.toArray(String[]::new);
    }
}
