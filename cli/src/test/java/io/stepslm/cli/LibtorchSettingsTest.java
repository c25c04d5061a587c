package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Choosing a libtorch: the launcher's STEPSLM_LIBTORCH settings and the start-up refusal of a libtorch DJL cannot
 * run, both before anything is built or loaded (docs/gpu.md).
 */
class LibtorchSettingsTest {

    private static String check(Map<String, String> settings, int expectedExit) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int exit = StepsLm.checkLibtorch(n -> settings.getOrDefault(n, ""),
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        String err = buf.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, exit, err);
        return err;
    }

    @Test
    void nothingSetChecksNothing() {
        assertEquals("", check(Map.of(), 0));
    }

    @Test
    void anotherLibtorchVersionIsRefusedAtStartNamingBoth(@TempDir Path tmp) throws IOException {
        String err = check(Map.of("PYTORCH_VERSION", "2.11.0"), 1);
        assertTrue(err.startsWith("stepslm: error: PYTORCH_VERSION=2.11.0 but DJL 0.36 runs only libtorch 2.7.1"), err);
        Path lib = Files.createDirectories(tmp.resolve("torch/lib")); // a torch 2.11 wheel's layout
        Files.writeString(lib.resolve(System.mapLibraryName("torch")), "");
        Files.writeString(tmp.resolve("torch/version.py"), "__version__ = '2.11.0+cu128'\n");
        err = check(Map.of("PYTORCH_LIBRARY_PATH", lib.toString(), "PYTORCH_FLAVOR", "cu128"), 1);
        assertTrue(err.contains("holds libtorch 2.11.0+cu128") && err.contains("needs libtorch 2.7.1"), err);
        assertEquals(1, err.strip().lines().count(), "one line: " + err);
    }

    @Test
    void aMissingFlavorIsRefused(@TempDir Path tmp) throws IOException {
        Path lib = Files.createDirectories(tmp.resolve("torch/lib"));
        Files.writeString(lib.resolve(System.mapLibraryName("torch")), "");
        Files.writeString(tmp.resolve("torch/version.py"), "__version__ = '2.7.1+cu128'\n");
        String err = check(Map.of("PYTORCH_LIBRARY_PATH", lib.toString(), "PYTORCH_VERSION", "2.7.1"), 1);
        assertTrue(err.contains("PYTORCH_FLAVOR is not") && err.contains("PYTORCH_FLAVOR=cu128"), err);
        assertEquals("", check(Map.of("PYTORCH_LIBRARY_PATH", lib.toString(), "PYTORCH_VERSION", "2.7.1",
                "PYTORCH_FLAVOR", "cu128"), 0));
    }

    /** Runs ./stepslm with {@code env} added; the settings are checked before the jar is built or run. */
    private static String[] launcher(Map<String, String> env) throws IOException, InterruptedException {
        Path script = Path.of("").toAbsolutePath().getParent().resolve("stepslm"); // tests run in cli/
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "--version").redirectErrorStream(true);
        pb.environment().remove("PYTORCH_LIBRARY_PATH");
        pb.environment().remove("PYTORCH_FLAVOR");
        pb.environment().putAll(env);
        Process p = pb.start();
        try (InputStream in = p.getInputStream()) {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return e.toString();
                }
            });
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("./stepslm did not exit within 60 s");
            }
            return new String[] {Integer.toString(p.exitValue()), out.join()};
        }
    }

    @Test
    void theLauncherRefusesContradictorySettingsBeforeBuilding() throws Exception {
        String[] r = launcher(Map.of("STEPSLM_LIBTORCH", "rocm"));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("STEPSLM_LIBTORCH=rocm is not known: use cpu (the default) or cu128"), r[1]);
        r = launcher(Map.of("STEPSLM_LIBTORCH", "cu128", "PYTORCH_LIBRARY_PATH", "/opt/torch/lib"));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("unset one"), r[1]);
        r = launcher(Map.of("STEPSLM_LIBTORCH", "cu128", "PYTORCH_FLAVOR", "cpu"));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("contradicts PYTORCH_FLAVOR=cpu"), r[1]);
        assertTrue(!r[1].contains("building"), "refused before any build: " + r[1]);
    }
}
