package io.stepslm.datasets;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorException;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

/**
 * The byte side of one source file: counts and checksums every raw byte, detects compression by magic bytes (never
 * by name; gzip with all its concatenated members, bzip2, xz, zstd), and hands out the decompressed content as
 * entries: the whole stream, or a tar archive's regular files one after the other. Knows nothing about text.
 */
final class SourceStream implements Closeable {

    /** The compressions the issue names. Others that commons-compress detects (deflate's 0x78 0x5E is "x^" in ASCII)
     *  would misfire on text. */
    private static final Set<String> COMPRESSIONS = Set.of(CompressorStreamFactory.GZIP, CompressorStreamFactory.BZIP2,
            CompressorStreamFactory.XZ, CompressorStreamFactory.ZSTANDARD);
    /**
     * Bytes inspected for a NUL that marks a binary (non-UTF-8-text) file or entry, like git's and grep's heuristic.
     */
    private static final int SNIFF_BYTES = 8192;
    private static final int BUFFER = 1 << 16;

    /**
     * One file's or tar entry's content.
     *
     * @param name the file, or {@code archive.tar.gz!/entry} for a tar entry
     * @param nulAt the offset of a NUL byte among the first bytes (binary or UTF-16), or -1 when there is none
     */
    record Entry(String name, InputStream content, boolean empty, int nulAt) {}

    private final Path path;
    private final MessageDigest digest = Split.sha256();
    private final Counting counted;
    private final BufferedInputStream raw;
    private final String compression;
    private final TarArchiveInputStream tar;
    private final InputStream content;
    private boolean wholeStreamTaken;
    private IOException openFailure;

    SourceStream(Path path) throws IOException {
        this.path = path;
        this.counted = new Counting(new DigestInputStream(Files.newInputStream(path), digest));
        this.raw = new BufferedInputStream(counted, BUFFER);
        this.compression = detectCompression(raw);
        // Damage found while opening (a bzip2 or xz header is read at once) is kept for the reader to handle like
        // damage found later, so that skipping and failing name it the same way.
        InputStream decompressed = raw;
        TarArchiveInputStream tarStream = null;
        try {
            if (!compression.isEmpty()) {
                decompressed = new BufferedInputStream(
                        new CompressorStreamFactory().createCompressorInputStream(compression, raw, true), BUFFER);
            }
            decompressed.mark(512);
            byte[] head = decompressed.readNBytes(512);
            decompressed.reset();
            if (head.length == 512 && TarArchiveInputStream.matches(head, head.length)) {
                tarStream = new TarArchiveInputStream(decompressed);
            }
        } catch (CompressorException e) {
            openFailure = e.getCause() instanceof IOException io ? io : new IOException(e.getMessage(), e);
        } catch (IOException e) {
            openFailure = e;
        }
        this.tar = tarStream;
        this.content = decompressed;
    }

    private static String detectCompression(BufferedInputStream in) {
        try {
            String name = CompressorStreamFactory.detect(in);
            return COMPRESSIONS.contains(name) ? name : "";
        } catch (CompressorException e) {
            return ""; // no known signature: plain
        }
    }

    /** What failed while opening, once (null when nothing did). */
    IOException takeOpenFailure() {
        IOException e = openFailure;
        openFailure = null;
        return e;
    }

    /** For the data report: none, tar, gzip, gzip+tar, ... */
    String compression() {
        return compression.isEmpty() ? (tar != null ? "tar" : "none") : compression + (tar != null ? "+tar" : "");
    }

    /** For messages about damage, as users name the formats: gzip, bzip2, xz, zstd, tar, tar.gz, tar.zst, ... */
    String kind() {
        String name = switch (compression) {
            case CompressorStreamFactory.GZIP -> "gzip";
            default -> compression;
        };
        String suffix = switch (compression) {
            case CompressorStreamFactory.GZIP -> "gz";
            case CompressorStreamFactory.BZIP2 -> "bz2";
            case CompressorStreamFactory.ZSTANDARD -> "zst";
            default -> compression;
        };
        if (tar != null) {
            return compression.isEmpty() ? "tar" : "tar." + suffix;
        }
        return compression.isEmpty() ? "file" : name;
    }

    boolean isTar() {
        return tar != null;
    }

    /** Raw bytes read from the file so far (for progress and for locating damage). */
    long bytesRead() {
        return counted.count;
    }

    /** The next entry (the whole stream, or the tar archive's next regular file), or null when there is none. */
    Entry nextEntry() throws IOException {
        String name;
        InputStream entry;
        if (tar == null) {
            if (wholeStreamTaken) {
                return null;
            }
            wholeStreamTaken = true;
            name = path.toString();
            entry = content;
        } else {
            TarArchiveEntry e;
            do {
                e = tar.getNextEntry();
            } while (e != null && !e.isFile());
            if (e == null) {
                return null;
            }
            name = path + "!/" + e.getName();
            entry = new BufferedInputStream(new NonClosing(tar), BUFFER);
        }
        entry.mark(SNIFF_BYTES);
        byte[] head = entry.readNBytes(SNIFF_BYTES);
        entry.reset();
        int nul = -1;
        for (int i = 0; i < head.length && nul < 0; i++) {
            if (head[i] == 0) {
                nul = i;
            }
        }
        return new Entry(name, entry, head.length == 0, nul);
    }

    /** Reads the file to its end, so the checksum covers every byte (tar padding, gzip trailer, concatenated
     *  members), and returns its SHA-256 in hex. */
    String finish() throws IOException {
        byte[] skip = new byte[BUFFER];
        while (raw.read(skip) >= 0) {
            // counting only
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }

    private static final class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // read, never skip: the digest underneath must see every byte
            byte[] sink = new byte[(int) Math.min(n, BUFFER)];
            int r = read(sink, 0, sink.length);
            return Math.max(r, 0);
        }
    }

    private static final class NonClosing extends FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the tar stream is closed with the file
        }
    }
}
