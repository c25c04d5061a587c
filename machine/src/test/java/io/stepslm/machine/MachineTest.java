package io.stepslm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** {@link Machine} on sample /proc text (as a 2-core Linux VM writes it), and on a folder without /proc files. */
class MachineTest {

    @Test
    void readsSampleProcText(@TempDir Path proc) throws IOException {
        Files.writeString(proc.resolve("cpuinfo"), """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                model name\t: AMD EPYC 7B13
                cpu MHz\t\t: 2449.998

                processor\t: 1
                model name\t: AMD EPYC 7B13
                """);
        Files.writeString(proc.resolve("loadavg"), "1.73 0.98 0.61 3/412 120374\n");
        Files.writeString(proc.resolve("meminfo"), """
                MemTotal:        8139400 kB
                MemFree:          512000 kB
                MemAvailable:    6004204 kB
                """);
        Files.createDirectories(proc.resolve("self"));
        // the command name holds a space and a parenthesis; utime 250, stime 50, cutime 1234, cstime 66 ticks
        Files.writeString(proc.resolve("self/stat"), "4242 (java (main) x) S 1 4242 4242 0 -1 4194560 51234 0 12 0 "
                + "250 50 1234 66 20 0 31 0 1012 6148915200 123456 18446744073709551615\n");
        Machine m = new Machine(proc);
        assertEquals("AMD EPYC 7B13", m.cpuModel());
        assertEquals(1.73, m.loadAverage().orElseThrow(), 1e-12);
        assertEquals("1.73", m.loadAverageText());
        assertEquals(8139400L * 1024, m.memoryBytes().orElseThrow());
        assertEquals(6004204L * 1024, m.availableMemoryBytes().orElseThrow());
        assertEquals(Duration.ofMillis(3000), m.processCpu());
        assertEquals(Duration.ofMillis(13000), m.childrenCpu());
        String summary = m.summary();
        assertTrue(summary.matches("AMD EPYC 7B13, \\d+ logical CPUs, 8\\.3 GB memory \\(6\\.1 GB available\\), "
                + "load average 1\\.73"), summary);
    }

    @Test
    void missingProcFilesGiveUnknownFiguresNotErrors(@TempDir Path empty) {
        Machine m = new Machine(empty);
        assertEquals("unknown CPU", m.cpuModel());
        assertTrue(m.loadAverage().isEmpty());
        assertEquals("n/a", m.loadAverageText());
        assertTrue(m.memoryBytes().isEmpty());
        assertEquals(Duration.ZERO, m.childrenCpu());
        assertTrue(m.processCpu().toNanos() > 0, "falls back to the JVM's own CPU counter");
        assertTrue(m.summary().contains("memory unknown"), m.summary());
    }

    @Test
    void theLocalMachineCountsAChildsCpuTimeOnceItIsWaitedFor() throws Exception {
        Machine m = Machine.local();
        if (!Files.isReadable(Path.of("/proc/self/stat"))) {
            return; // not Linux: nothing to compare with
        }
        Duration before = m.childrenCpu();
        // a child that spends well over 10 ms of CPU: a JVM starting up, bounded in time
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-Xshare:off", "-version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("java -version did not end in 60 s");
        }
        Duration spent = m.childrenCpu().minus(before);
        assertTrue(spent.toMillis() >= 10, "child CPU time " + spent);
    }
}
