package io.stepslm.machine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Facts about the machine that benchmarks print next to their figures, read from Linux's {@code /proc} (another
 * folder in tests): CPU model, logical CPUs, load average, memory, and the CPU time of this process and of the
 * children it has waited for. Every figure is missing (empty or "unknown"), never an error, where {@code /proc}
 * does not have it: a benchmark still runs on another system.
 *
 * @param proc the proc file system, {@code /proc} on Linux
 */
public record Machine(Path proc) {

    /** Linux reports process times in USER_HZ ticks, 100 per second on every architecture (times(2)). */
    static final long TICKS_PER_SECOND = 100;

    public Machine {
        if (proc == null) {
            throw new IllegalArgumentException("proc must be set, e.g. Path.of(\"/proc\")");
        }
    }

    /** This machine, through {@code /proc}. */
    public static Machine local() {
        return new Machine(Path.of("/proc"));
    }

    /** The first "model name" of cpuinfo, e.g. "AMD EPYC 7B13"; "unknown CPU" when there is none. */
    public String cpuModel() {
        for (String line : read("cpuinfo").lines().toList()) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown CPU";
    }

    /** CPUs this JVM may use (the container's share, not the host's count). */
    public int logicalCpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * The 1-minute load average (runnable processes): above {@link #logicalCpus()}, other work shared the cores and
     * every wall-clock figure is low.
     */
    public OptionalDouble loadAverage() {
        String[] fields = read("loadavg").trim().split("\\s+");
        try {
            return OptionalDouble.of(Double.parseDouble(fields[0]));
        } catch (NumberFormatException e) {
            return OptionalDouble.empty();
        }
    }

    /** The load average as printed, "n/a" when unknown. */
    public String loadAverageText() {
        OptionalDouble l = loadAverage();
        return l.isPresent() ? String.format(Locale.ROOT, "%.2f", l.getAsDouble()) : "n/a";
    }

    /** MemTotal of meminfo in bytes. */
    public OptionalLong memoryBytes() {
        return meminfo("MemTotal:");
    }

    /** MemAvailable of meminfo in bytes: what can be allocated without swapping. */
    public OptionalLong availableMemoryBytes() {
        return meminfo("MemAvailable:");
    }

    /** User + system CPU time of this process, all threads (JIT and GC included). */
    public Duration processCpu() {
        long[] t = selfTimes();
        if (t.length > 0) {
            return Duration.ofMillis((t[0] + t[1]) * 1000 / TICKS_PER_SECOND);
        }
        // not Linux: the JVM's own counter
        return Duration.ofNanos(((com.sun.management.OperatingSystemMXBean)
                ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime());
    }

    /**
     * User + system CPU time of the children this process has waited for (the JVM waits for every child it
     * started once it ends), with their own waited-for children: the difference across a peer's run is the peer's
     * CPU time, which other load on the machine does not inflate. Zero where unknown.
     */
    public Duration childrenCpu() {
        long[] t = selfTimes();
        return t.length == 0 ? Duration.ZERO : Duration.ofMillis((t[2] + t[3]) * 1000 / TICKS_PER_SECOND);
    }

    /** CPU time of the calling thread in nanoseconds: with one libtorch thread, all of an op's work. */
    public static long threadCpuNanos() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /** One line for a benchmark's header: CPU model, CPUs, memory, load average. */
    public String summary() {
        OptionalLong mem = memoryBytes();
        OptionalLong free = availableMemoryBytes();
        String memory = mem.isEmpty() ? "memory unknown" : String.format(Locale.ROOT, "%.1f GB memory%s",
                mem.getAsLong() / 1e9, free.isEmpty() ? "" : String.format(Locale.ROOT, " (%.1f GB available)",
                        free.getAsLong() / 1e9));
        return String.format(Locale.ROOT, "%s, %d logical CPUs, %s, load average %s", cpuModel(), logicalCpus(),
                memory, loadAverageText());
    }

    /** utime, stime, cutime, cstime of self/stat in ticks; empty when unreadable. */
    private long[] selfTimes() {
        String stat = read("self/stat");
        // the command name (field 2) is in parentheses and may hold spaces: fields are counted after the last ')'
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return new long[0];
        }
        String[] f = stat.substring(close + 1).trim().split("\\s+");
        // f[0] is field 3 (state), so field n is f[n - 3]: utime 14, stime 15, cutime 16, cstime 17
        if (f.length < 15) {
            return new long[0];
        }
        try {
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]),
                Long.parseLong(f[14])};
        } catch (NumberFormatException e) {
            return new long[0];
        }
    }

    private OptionalLong meminfo(String key) {
        for (String line : read("meminfo").lines().toList()) {
            if (line.startsWith(key)) {
                String[] f = line.substring(key.length()).trim().split("\\s+");
                try {
                    long value = Long.parseLong(f[0]);
                    return OptionalLong.of(f.length > 1 && f[1].equalsIgnoreCase("kB") ? value * 1024 : value);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }

    /** A proc file's text, empty when it cannot be read (another system, a restricted container). */
    private String read(String name) {
        try {
            return Files.readString(proc.resolve(name));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
