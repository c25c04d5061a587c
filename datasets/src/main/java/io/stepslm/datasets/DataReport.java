package io.stepslm.datasets;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Per-source accounting of a read, printed at the end of {@code stepslm data prepare} and of training. */
public final class DataReport {
    private final List<SourceStats> sources = Collections.synchronizedList(new ArrayList<>());

    SourceStats add(String source, long bytes) {
        SourceStats s = new SourceStats(source, bytes);
        sources.add(s);
        return s;
    }

    public List<SourceStats> sources() {
        synchronized (sources) {
            return List.copyOf(sources);
        }
    }

    public long documents() {
        return sources().stream().mapToLong(SourceStats::documents).sum();
    }

    public long tokens() {
        return sources().stream().mapToLong(SourceStats::tokens).sum();
    }

    public long skipped() {
        return sources().stream().mapToLong(SourceStats::skipped).sum();
    }

    public long empty() {
        return sources().stream().mapToLong(SourceStats::empty).sum();
    }

    public long repaired() {
        return sources().stream().mapToLong(SourceStats::repaired).sum();
    }

    /** A plain-text table, one line per source, then the totals and the first problems met. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-48s %12s %10s %12s %8s %6s %9s%n",
                "source", "bytes", "documents", "tokens", "skipped", "empty", "repaired"));
        for (SourceStats s : sources()) {
            sb.append(String.format("%-48s %12d %10d %12d %8d %6d %9d%n",
                    shorten(s.source()), s.bytes(), s.documents(), s.tokens(), s.skipped(), s.empty(), s.repaired()));
        }
        sb.append(String.format("%-48s %12d %10d %12d %8d %6d %9d%n", "total (" + sources().size() + " sources)",
                sources().stream().mapToLong(SourceStats::bytes).sum(), documents(), tokens(), skipped(), empty(),
                repaired()));
        for (SourceStats s : sources()) {
            for (String p : s.problems()) {
                sb.append("  ").append(p).append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    private static String shorten(String s) {
        return s.length() <= 48 ? s : "..." + s.substring(s.length() - 45);
    }
}
