package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import me.tongfei.progressbar.ProgressBar;
import org.junit.jupiter.api.Test;

class ProgressBarsTest {

    /** In a log (not a terminal): whole lines, no carriage-return redraws, no "?" for a speed not yet known. */
    @Test
    void outsideATerminalProgressIsPlainLines() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        try (ProgressBar bar = ProgressBars.open("prepare", 280_000_000, "MB", 1_000_000, out, false)) {
            bar.stepTo(117_300_000);
            bar.setExtraMessage(" 5 tokens");
        }
        String log = buffer.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains("\r"), log);
        assertFalse(log.contains("?"), log);
        String last = log.lines().reduce((a, b) -> b).orElse("");
        // the speed appears once a second has passed (a loaded machine may take that long to get here)
        assertTrue(last.matches("prepare 41% \\(117\\.3 of 280\\.0 MB\\)(, [0-9.]+ MB/s)?, 5 tokens"), log);
    }

    @Test
    void onATerminalTheBarIsRedrawnInPlace() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ProgressBar bar = ProgressBars.open("merges", 5000, "", 1, new PrintStream(buffer, true,
                StandardCharsets.UTF_8), true)) {
            bar.stepTo(2500);
        }
        assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("\r"), "a terminal bar redraws with \\r");
    }
}
