package io.stepslm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers run from argument lists with a time limit; torch_reference.py's summary and env.sh are read without a
 * shell.
 */
class PeerProcessTest {

    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    @Test
    void runsAChildWithItsEnvironmentAndCollectsItsOutputAndCpuTime() throws Exception {
        PeerProcess.Result r = PeerProcess.run(List.of(JAVA, "-XshowSettings:properties", "-version"),
                Map.of("STEPSLM_PEER_TEST", "1"), Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("java.home"), "stderr is collected too: " + r.output());
        assertTrue(!r.cpu().isNegative(), r.cpu().toString());
    }

    @Test
    void aChildOverItsTimeLimitIsStoppedWithAMessage() {
        IOException e = assertThrows(IOException.class,
                () -> PeerProcess.run(List.of("sleep", "30"), Map.of(), Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("did not finish within"), e.getMessage());
    }

    @Test
    void aMissingProgramSaysSo() {
        IOException e = assertThrows(IOException.class, () -> PeerProcess.run(
                List.of("stepslm-no-such-program"), Map.of(), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("could not be started"), e.getMessage());
    }

    @Test
    void torchSummaryIsTheLastTrainTokensPerSecond() throws IOException {
        String out = "{\"torch\": \"2.1\"}\n{\"iter\": 0, \"train_loss\": 4.2}\n"
                + "{\"summary\": true, \"val_loss\": 4.1, \"train_tok_s\": 12345}\n";
        assertEquals(12345, ModelBenchCommand.trainTokensPerSecond(new PeerProcess.Result(0, out, Duration.ZERO),
                List.of("python3")), 0);
        IOException e = assertThrows(IOException.class, () -> ModelBenchCommand.trainTokensPerSecond(
                new PeerProcess.Result(1, "Traceback: no module named torch", Duration.ZERO), List.of("python3")));
        assertTrue(e.getMessage().contains("exit 1") && e.getMessage().contains("no module named torch"),
                e.getMessage());
    }

    @Test
    void envFileIsReadAsExportLinesAndAnythingElseIsRefused(@TempDir Path dir) throws IOException {
        Path env = dir.resolve("env.sh");
        Files.writeString(env, "# written by setup_torch_cpu.sh\nexport PYTHONPATH=/tmp/anchors/torch/root/usr/lib\n"
                + "\nexport LD_LIBRARY_PATH=\"/a:/b\"\n");
        assertEquals(Map.of("PYTHONPATH", "/tmp/anchors/torch/root/usr/lib", "LD_LIBRARY_PATH", "/a:/b"),
                EnvFile.read(env, "--torch-env"));
        Files.writeString(env, "export PATH=$PATH:/x\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EnvFile.read(env, "--torch-env"));
        assertTrue(e.getMessage().startsWith("--torch-env " + env + " line 1"), e.getMessage());
    }
}
