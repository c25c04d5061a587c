package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Xmx1g", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-cp", classpath, StepsLm.class.getName(), "train", "--char",
                "--data", text.toString(), "--model", "char-tiny", "--preset", "tiny", "--max-steps", "100000",
                "--log-interval", "1", "--eval-interval", "100000", "--checkpoint-interval", "100000",
                "--threads", "1", "--out", run.toString()))
                .redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            boolean signalled = false;
            for (String line; (line = r.readLine()) != null; ) {
                out.append(line).append('\n');
                if (!signalled && line.startsWith("step 5/")) {
                    // what the terminal sends on Ctrl-C
                    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
                    signalled = true;
                }
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the process did not exit after SIGINT:\n" + out);
        assertTrue(out.toString().contains("interrupted at step"), out.toString());
        assertTrue(out.toString().contains("checkpoint saved to"), out.toString());
        CliRun resumed = CliRun.of("train", "--char", "--data", text.toString(), "--resume", run.toString(),
                "--max-steps", "12", "--threads", "1", "--out", run.toString());
        assertTrue(resumed.exit() == 0, resumed.out() + resumed.err());
        assertTrue(Files.isDirectory(run.resolve("checkpoints/step-000012")), "the resumed run reached step 12");
        String metrics = Files.readString(run.resolve("metrics.jsonl"));
        assertTrue(metrics.contains("\"step\":6,") && metrics.contains("\"step\":12,"), metrics);
    }
}
