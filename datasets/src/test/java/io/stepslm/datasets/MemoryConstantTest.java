package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams a generated 240 MB corpus (one 160 MB single-document file and 80 MB of short documents) through the
 * loader in a child JVM limited to a 48 MB heap: a loader that held a file, a document or the token stream in
 * memory dies with OutOfMemoryError. The child prints what it counted and its peak heap use.
 */
class MemoryConstantTest {
    private static final String HEAP = "-Xmx48m";
    private static final long HUGE_BYTES = 160L << 20;
    private static final long LINES_BYTES = 80L << 20;
    private static final int T = 256;

    @TempDir
    Path dir;

    @Test
    void aCorpusFiveTimesTheHeapStreamsInConstantMemory() throws Exception {
        generate(dir.resolve("huge.txt.gz"), HUGE_BYTES, false);
        generate(dir.resolve("lines.txt.gz"), LINES_BYTES, true);
        long bytes = HUGE_BYTES + LINES_BYTES;
        long documents = 1 + LINES_BYTES / 64;
        // One id per byte, plus an end-of-text per document; blocks lose their final newline (the huge document)
        // or their blank-line separator (62 of every 64 bytes of the short documents remain).
        long tokens = (HUGE_BYTES - 1) + LINES_BYTES / 64 * 62 + documents;
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP, "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), "the child JVM (" + HEAP + ") failed:\n" + out);
        assertTrue(out.contains("windows=" + (tokens - 1) / T + " "), "expected " + (tokens - 1) / T + " windows of T=" + T + ", got: " + out);
        assertTrue(out.contains("documents=" + documents + " "), out);
        // The child finishing at all is the proof (a loader holding a file, a document or the stream would throw
        // OutOfMemoryError); the corpus must be far larger than the heap for that to mean anything.
        assertTrue(bytes >> 20 >= 5 * 48, "the corpus (" + (bytes >> 20) + " MB) is at least 5 times the child's heap");
        assertTrue(out.contains("peakHeapMB="), out);
    }

    /** Writes {@code size} bytes of ASCII text (64-byte lines; blank-line separated documents when {@code docs}) with fast gzip. */
    private static void generate(Path file, long size, boolean docs) throws IOException {
        byte[] line = new byte[64];
        try (OutputStream out = new BufferedOutputStream(new GZIPOutputStream(Files.newOutputStream(file), 1 << 16) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }, 1 << 16)) {
            for (long written = 0, i = 0; written < size; written += 64, i++) {
                String s = String.format("%012d the quick brown fox jumps over the lazy dog %05d", i, i % 99991);
                byte[] b = s.getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(b, 0, line, 0, 62);
                line[62] = '\n';
                line[63] = '\n';
                if (!docs) {
                    line[62] = ' ';
                }
                out.write(line);
            }
        }
    }

    /** Runs in the small-heap JVM. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            ByteTokenizer tok = ByteTokenizer.narrow();
            SourceSpec spec = new SourceSpec(List.of(dir.resolve("huge.txt.gz").toString(), dir.resolve("lines.txt.gz").toString()),
                    TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
            StreamingConfig cfg = new StreamingConfig(T, 2, 64, false, Split.none(), Split.Part.TRAIN);
            long windows = 0;
            long checksum = 0;
            long documents;
            long tokens;
            try (StreamingLoader l = StreamingLoader.open(spec, tok, cfg, LoaderState.initial(1))) {
                while (l.hasNext()) {
                    checksum += l.next()[T];
                    windows++;
                }
                documents = l.report().documents();
                tokens = l.tokensRead();
            }
            long peak = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    peak += pool.getPeakUsage().getUsed();
                }
            }
            System.out.println("windows=" + windows + " documents=" + documents + " tokens=" + tokens + " peakHeapMB=" + (peak >> 20)
                    + " checksum=" + checksum);
        }
    }
}
