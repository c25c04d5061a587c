package io.stepslm.datasets;

import java.util.ArrayList;
import java.util.List;

/**
 * Accounting for one source file: what was read, what was repaired, what was skipped and why. Updated by the reading
 * thread (documents, repairs, skips) and the packing thread (tokens), hence synchronized.
 */
public final class SourceStats {
    /** At most this many problem messages are kept per source; the counts stay exact. */
    static final int MAX_PROBLEMS = 5;

    private final String source;
    private final long bytes;
    private String sha256 = "";
    private long documents;
    private long tokens;
    private long skipped;
    private long empty;
    private long repaired;
    private final List<String> problems = new ArrayList<>();

    SourceStats(String source, long bytes) {
        this.source = source;
        this.bytes = bytes;
    }

    public String source() {
        return source;
    }

    /** Size of the file on disk (compressed size for a compressed file). */
    public long bytes() {
        return bytes;
    }

    /** SHA-256 of the file's bytes, set once it was read to the end ({@code ""} before, or when skipped). */
    public synchronized String sha256() {
        return sha256;
    }

    public synchronized long documents() {
        return documents;
    }

    public synchronized long tokens() {
        return tokens;
    }

    /** Bad items skipped under {@link OnError#SKIP}: JSONL lines, non-text tar entries, the rest of a corrupt file. */
    public synchronized long skipped() {
        return skipped;
    }

    /** Empty files, entries or JSONL texts (nothing to learn from, skipped and counted). */
    public synchronized long empty() {
        return empty;
    }

    /** Invalid UTF-8 sequences replaced by U+FFFD. */
    public synchronized long repaired() {
        return repaired;
    }

    public synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    synchronized void sha256(String hex) {
        sha256 = hex;
    }

    synchronized void addDocument() {
        documents++;
    }

    synchronized void addTokens(long n) {
        tokens += n;
    }

    synchronized void addRepaired(long n) {
        repaired += n;
    }

    synchronized void addEmpty(String what) {
        empty++;
        note(what);
    }

    synchronized void addSkipped(String why) {
        skipped++;
        note(why);
    }

    private void note(String message) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(message);
        }
    }
}
