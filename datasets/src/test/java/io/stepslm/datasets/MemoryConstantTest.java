package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.childprocess.ChildProcess;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams a generated 240 MB corpus (one 160 MB single-document file and 80 MB of short documents) through the
 * loader in a child JVM limited to a 48 MB heap: a loader that held a file, a document or the token stream in
 * memory dies with OutOfMemoryError. The child prints what it counted, its heap limit and its live heap.
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
        long documents = 1 + LINES_BYTES / 64;
        // One id per byte, plus an end-of-text per document; blocks lose their final newline (the huge document)
        // or their blank-line separator (62 of every 64 bytes of the short documents remain).
        long tokens = (HUGE_BYTES - 1) + LINES_BYTES / 64 * 62 + documents;
        String out;
        try (ChildProcess p = ChildProcess.java(List.of(HEAP, "-XX:+UseSerialGC"), Child.class.getName(),
                List.of(dir.toString()))) {
            int exit = p.waitFor(Duration.ofMinutes(5));
            out = p.output();
            assertEquals(0, exit, "the child JVM (" + HEAP + ") failed:\n" + out);
        }
        assertEquals((tokens - 1) / T, value(out, "windows"), "windows of T=" + T + ": " + out);
        assertEquals(documents, value(out, "documents"), out);
        assertEquals(tokens, value(out, "tokens"), out);
        // The child finishing at all is the first proof (a loader holding a file, a document or the stream throws
        // OutOfMemoryError). The figures the child measured say how much room was left: the text it streamed is at
        // least five times the heap it was given; the heap in use after a collection, sampled every 100,000
        // windows, stays below a fifth of the largest document and does not grow while 1.3 million documents pass
        // (a loader keeping 16 bytes per document would add 20 MB by the last sample).
        long maxHeap = value(out, "maxHeapBytes");
        assertTrue(value(out, "tokens") >= 5 * maxHeap, "streamed " + value(out, "tokens") + " bytes, heap " + maxHeap);
        Matcher m = Pattern.compile("liveHeapBytes=([\\d,]+)").matcher(out);
        assertTrue(m.find(), out);
        long[] live = java.util.Arrays.stream(m.group(1).split(",")).mapToLong(Long::parseLong).toArray();
        assertTrue(live.length >= 5, out);
        assertTrue(java.util.Arrays.stream(live).max().getAsLong() < HUGE_BYTES / 5, "live heap too large: " + out);
        assertTrue(live[live.length - 1] <= live[0] + (2 << 20), "live heap grew while streaming: " + out);
    }

    private static long value(String out, String key) {
        Matcher m = Pattern.compile("\\b" + key + "=(\\d+)").matcher(out);
        assertTrue(m.find(), "the child reports " + key + ": " + out);
        return Long.parseLong(m.group(1));
    }

    /**
     * Writes {@code size} bytes of ASCII text (64-byte lines; blank-line separated documents when {@code docs}) with
     * fast gzip.
     */
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
            SourceSpec spec = new SourceSpec(
                    List.of(dir.resolve("huge.txt.gz").toString(), dir.resolve("lines.txt.gz").toString()),
                    TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
            StreamingConfig cfg = new StreamingConfig(T, 2, 64, false, Split.none(), Split.Part.TRAIN);
            long windows = 0;
            long checksum = 0;
            long documents;
            long tokens;
            StringBuilder live = new StringBuilder();
            try (StreamingLoader l = StreamingLoader.open(spec, tok, cfg, LoaderState.initial(1))) {
                while (l.hasNext()) {
                    checksum += l.next()[T];
                    if (++windows % 100_000 == 0) {
                        live.append(live.length() == 0 ? "" : ",").append(liveHeap());
                    }
                }
                documents = l.report().documents();
                tokens = l.tokensRead();
            }
            System.out.println("windows=" + windows + " documents=" + documents + " tokens=" + tokens
                    + " liveHeapBytes=" + live
                    + " maxHeapBytes=" + Runtime.getRuntime().maxMemory() + " checksum=" + checksum);
        }

        /** Heap in use after a full collection: what the loader holds, not garbage waiting to be collected. */
        private static long liveHeap() {
            System.gc();
            Runtime r = Runtime.getRuntime();
            return r.totalMemory() - r.freeMemory();
        }
    }
}
