package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo runs end to end (shortened) and ends by pointing at the StepsNet experiment. */
class DemoCommandTest {

    @Test
    void demoEndsWithThePointerToTheStepsNetExperiment(@TempDir Path dir) {
        String out = CliRun.stdout(() -> CliRun.of("demo", "--max-steps", "2", "--tokens", "5", "--threads", "1",
                "--vocab-size", "300", "--out", dir.resolve("demo").toString()), 0).strip();
        assertTrue(out.contains("[4/4]"), out);
        String last = out.substring(out.lastIndexOf('\n') + 1);
        assertEquals(DemoCommand.STEPSNET_POINTER, last);
        assertTrue(last.contains("./stepslm experiment steps-vs-plain"), last);
    }
}
