package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.childprocess.ChildProcess;
import io.stepslm.datasets.BuiltinCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C (SIGINT) on a real `stepslm train` process: it saves a checkpoint, says so, and the run resumes from it. */
@Tag("slow")
class CtrlCTest {

    @TempDir
    Path dir;

    @Test
    void sigintSavesACheckpointThatResumes() throws Exception {
        Path text = dir.resolve("corpus.txt");
        Files.writeString(text, BuiltinCorpus.text().substring(0, 100_000));
        Path run = dir.resolve("run");
        // --max-steps is far beyond step 5 so that only the signal ends the run, but bounded: a run that ignored
        // the signal still ends, and the wait below fails first.
        String out;
        try (ChildProcess p = ChildProcess.java(List.of("-Xmx1g", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1"),
                StepsLm.class.getName(), List.of("train", "--char", "--data", text.toString(), "--model", "char-tiny",
                        "--preset", "tiny", "--max-steps", "2000", "--log-interval", "1", "--eval-interval", "100000",
                        "--checkpoint-interval", "100000", "--threads", "1", "--out", run.toString()))) {
            assertNotNull(p.awaitLine(l -> l.startsWith("step 5/"), Duration.ofMinutes(3)),
                    "the run reached step 5:\n" + p.output());
            p.signal("INT"); // what the terminal sends on Ctrl-C
            p.waitFor(Duration.ofMinutes(2));
            out = p.output();
        }
        assertTrue(out.contains("interrupted at step"), out);
        assertTrue(out.contains("checkpoint saved to"), out);
        CliRun resumed = CliRun.of("train", "--char", "--data", text.toString(), "--resume", run.toString(),
                "--max-steps", "12", "--threads", "1", "--out", run.toString());
        assertTrue(resumed.exit() == 0, resumed.out() + resumed.err());
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-000012")), "the resumed run reached step 12");
        String metrics = Files.readString(run.resolve("metrics.jsonl"));
        assertTrue(metrics.contains("\"step\":6,") && metrics.contains("\"step\":12,"), metrics);
    }
}
