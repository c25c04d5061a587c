package io.stepslm.bench;

import io.stepslm.machine.Machine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A peer program (PyTorch, node) run as a child process: an argument list (no shell), extra environment variables,
 * its output (stdout and stderr merged) read on a thread of its own so a full pipe never stalls it, and a time
 * limit after which it and its descendants are killed. Its CPU time is read from {@link Machine#childrenCpu()}
 * across the run.
 */
final class PeerProcess {

    /**
     * A finished run.
     *
     * @param exitCode the child's exit status
     * @param output   stdout and stderr, interleaved as written
     * @param cpu      user + system CPU time of the child and the children it waited for
     */
    record Result(int exitCode, String output, Duration cpu) {
    }

    private PeerProcess() {
    }

    /** Runs {@code command} with {@code environment} added to this process's; throws IOException on timeout. */
    static Result run(List<String> command, Map<String, String> environment, Duration timeout)
            throws IOException, InterruptedException {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("a peer command needs at least the program, e.g. [node, script.js]");
        }
        Machine machine = Machine.local();
        Duration cpuBefore = machine.childrenCpu();
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process p;
        try {
            p = builder.start();
        } catch (IOException e) {
            throw new IOException(command.get(0) + " could not be started (" + e.getMessage() + "): install it or "
                    + "skip this peer", e);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), output), "peer-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            reader.join(5_000);
            throw new IOException(String.join(" ", command) + " did not finish within " + timeout.toSeconds()
                    + " s and was stopped; its output:\n" + text(output));
        }
        reader.join(10_000);
        return new Result(p.exitValue(), text(output), machine.childrenCpu().minus(cpuBefore));
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try (in) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                synchronized (out) {
                    out.write(buffer, 0, n);
                }
            }
        } catch (IOException e) {
            // the pipe closes when a stopped child is killed: what was read so far is the output
        }
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
