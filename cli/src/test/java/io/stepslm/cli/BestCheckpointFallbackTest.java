package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.files.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval --checkpoint RUN} without best/ says on one line which checkpoint it uses (issue 13, item 5). */
class BestCheckpointFallbackTest {

    @Test
    void evalOfARunWithoutBestNamesTheCheckpointItFallsBackTo(@TempDir Path dir) throws Exception {
        Path text = Files.writeString(dir.resolve("a.txt"), BuiltinCorpus.text().substring(0, 20_000));
        Path run = dir.resolve("run");
        CliRun trained = ErrorMessagesTest.quietly(() -> CliRun.of("train", "--char", "--input", text.toString(),
                "--preset", "tiny", "--max-steps", "2", "--batch-size", "2", "--context", "16", "--out",
                run.toString()));
        assertEquals(0, trained.exit(), trained.err());
        CliRun withBest = CliRun.of("eval", "--checkpoint", run.toString(), text.toString());
        assertEquals(0, withBest.exit(), withBest.err());
        assertTrue(withBest.err().isBlank(), "best/ is used without a note: " + withBest.err());

        AtomicFiles.deleteRecursively(run.resolve("checkpoints/best"));
        java.io.ByteArrayOutputStream stderr = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        System.setErr(new java.io.PrintStream(stderr, true, java.nio.charset.StandardCharsets.UTF_8));
        String stdout;
        try {
            stdout = CliRun.stdout(() -> CliRun.of("eval", "--checkpoint", run.toString(), "--json", text.toString()),
                    0);
        } finally {
            System.setErr(saved);
        }
        assertEquals("note: " + run + " has no checkpoints/best/, so " + run.resolve("checkpoints/step-000002")
                + " (its newest checkpoint) is used; pass --checkpoint with another folder to choose",
                stderr.toString(java.nio.charset.StandardCharsets.UTF_8).strip());
        assertTrue(stdout.strip().startsWith("{"), "stdout stays JSON: " + stdout);
    }
}
