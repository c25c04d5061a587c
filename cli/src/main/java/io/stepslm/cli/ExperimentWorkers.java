package io.stepslm.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The extra worker processes of {@code experiment steps-vs-plain --workers N}: N - 1 child JVMs running the same
 * command with this JVM's options and class path (one libtorch per process: its seed and thread settings are global,
 * so runs cannot share one). The runs are shared by the claims of {@code StepsVsPlain.run}, not here. Each child's
 * output is copied to this process's, each line prefixed with its worker number; closing destroys the children that
 * still run (their runs resume from their checkpoints when the command runs again), as does a Ctrl-C of this one.
 */
final class ExperimentWorkers implements AutoCloseable {

    private final List<Process> children = new ArrayList<>();
    private final List<Thread> copies = new ArrayList<>();
    private final Thread onExit = new Thread(this::destroy, "stepslm-experiment-workers-exit");

    private ExperimentWorkers() {}

    /** Starts {@code count} children, numbered from 2 (this process is worker 1), with {@code args} each. */
    static ExperimentWorkers start(int count, List<String> args, PrintStream log) {
        ExperimentWorkers w = new ExperimentWorkers();
        Runtime.getRuntime().addShutdownHook(w.onExit);
        try {
            for (int i = 0; i < count; i++) {
                w.children.add(w.launch(i + 2, args, log));
            }
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    private Process launch(int number, List<String> args, PrintStream log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // a debugger's or profiler's agent would clash on its port or file: the children run without them
            if (!option.startsWith("-agentlib:") && !option.startsWith("-javaagent:")
                    && !option.startsWith("-Xrunjdwp")) {
                cmd.add(option);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(StepsLm.class.getName());
        cmd.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start experiment worker " + number + " (" + cmd.get(0) + "): "
                    + e.getMessage() + "; run with --workers 1", e);
        }
        String prefix = "[worker " + number + "] ";
        log.println(prefix + "started, pid " + p.pid());
        Thread copy = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.println(prefix + line);
                }
            } catch (IOException e) {
                log.println(prefix + "(its output could not be read: " + e.getMessage() + ")");
            }
        }, "stepslm-experiment-worker-" + number);
        copy.setDaemon(true);
        copy.start();
        copies.add(copy);
        return p;
    }

    /** Waits for every child; returns one line per child that failed (empty when all ended with status 0). */
    List<String> awaitAll() throws InterruptedException {
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < children.size(); i++) {
            Process p = children.get(i);
            int status = p.waitFor();
            copies.get(i).join(10_000); // its last lines, still in the pipe when it exited
            if (status != 0) {
                failed.add("experiment worker " + (i + 2) + " (pid " + p.pid() + ") ended with status " + status
                        + " (its output is above, prefixed [worker " + (i + 2) + "]): run the command again to "
                        + "resume its runs");
            }
        }
        return failed;
    }

    private void destroy() {
        for (Process p : children) {
            p.destroy(); // SIGTERM: the JVM exits; checkpoints are written by rename, so none is half written
        }
    }

    @Override
    public void close() {
        destroy();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already: the hook runs anyway
        }
    }
}
