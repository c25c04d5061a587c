package io.stepslm.childprocess;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A started child process whose merged stdout and stderr a daemon thread reads line by line. Reading to end-of-file
 * on the test's own thread before {@code waitFor(timeout)} would block for as long as the child lives, so the timeout
 * could never fire; here every wait has a bound, and a child still alive when it runs out (or at {@link #close}) is
 * killed and the failure carries everything it printed.
 */
public final class ChildProcess implements AutoCloseable {
    private final Process process;
    private final Thread reader;
    private final StringBuilder output = new StringBuilder();
    private boolean ended;

    private ChildProcess(List<String> command) {
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + command, e);
        }
        reader = new Thread(this::readOutput, "child-" + process.pid() + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code command} as it is. */
    public static ChildProcess start(List<String> command) {
        return new ChildProcess(command);
    }

    /** Starts {@code mainClass} in a new JVM: this JVM's java, the test classpath, {@code jvmOptions}, {@code args}. */
    public static ChildProcess java(List<String> jvmOptions, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        // surefire may start its fork with a manifest-only jar: its property holds the real test classpath
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(mainClass);
        cmd.addAll(args);
        return new ChildProcess(cmd);
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (this) {
                    output.append(line).append('\n');
                    notifyAll();
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                output.append("[reading the child's output failed: ").append(e.getMessage()).append("]\n");
            }
        } finally {
            synchronized (this) {
                ended = true;
                notifyAll();
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Everything the child printed so far. */
    public synchronized String output() {
        return output.toString();
    }

    /**
     * Waits until a line of the output so far satisfies {@code line}; returns that line, or null when the child
     * ended first. Throws, with the output, when {@code timeout} runs out (the child is killed).
     */
    public String awaitLine(Predicate<String> line, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int checked = 0;
        synchronized (this) {
            while (true) {
                int nl;
                while ((nl = output.indexOf("\n", checked)) >= 0) {
                    String l = output.substring(checked, nl);
                    checked = nl + 1;
                    if (line.test(l)) {
                        return l;
                    }
                }
                if (ended) {
                    return null;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    process.destroyForcibly();
                    throw new AssertionError("no expected line from the child within " + timeout
                            + "; it was killed. Output:\n" + output);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for the child", e);
                }
            }
        }
    }

    /**
     * Waits for the child to exit and for its output to be read; returns the exit status. A child still running
     * after {@code timeout} is killed and the call throws with its output.
     */
    public int waitFor(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError("the child did not finish within " + timeout + "; it was killed. Output:\n"
                        + output());
            }
            reader.join(TimeUnit.SECONDS.toMillis(30)); // the pipe closes when the child exits
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the child", e);
        }
    }

    /** Sends {@code signal} (e.g. "INT" for Ctrl-C, "KILL") to the child through kill(1). */
    public void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
            if (!kill.waitFor(30, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                kill.destroyForcibly();
                throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while signalling the child", e);
        }
    }

    /** SIGKILL (what {@code kill -9} sends) and wait until the child is gone. */
    public void kill() {
        process.destroyForcibly();
        waitFor(Duration.ofSeconds(60));
    }

    /** Kills the child if it still runs: no test leaves a process behind. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
