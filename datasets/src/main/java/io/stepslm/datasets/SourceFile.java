package io.stepslm.datasets;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
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
 * Reads the documents of one file: detects compression by magic bytes (never by name), reads tar archives entry by
 * entry, decodes UTF-8 with counted repairs, cuts text into documents by {@link TextFormat}, and applies the
 * {@link OnError} policy. Holds at most one document piece (or one JSONL line) in memory.
 */
final class SourceFile implements Closeable {

    /** The compressions the issue names. Others that commons-compress detects (deflate's 0x78 0x5E is "x^" in ASCII) would misfire on text. */
    private static final Set<String> COMPRESSIONS = Set.of(
            CompressorStreamFactory.GZIP, CompressorStreamFactory.BZIP2, CompressorStreamFactory.XZ, CompressorStreamFactory.ZSTANDARD);
    /** Bytes inspected for a NUL that marks a binary (non-UTF-8-text) file or entry, like git's and grep's heuristic. */
    private static final int SNIFF_BYTES = 8192;

    private final Path path;
    private final SourceSpec spec;
    private final SourceStats stats;
    private final MessageDigest digest = Split.sha256();
    private final Counting counted;
    private final BufferedInputStream raw;
    private final String compression;
    private final TarArchiveInputStream tar;
    private final InputStream content;
    private boolean wholeStreamTaken;
    private IOException openFailure;

    private String entryName;
    private Utf8Reader reader;
    private final char[] buf = new char[1 << 16];
    private int pos;
    private int lim;
    private long line;

    private final StringBuilder doc = new StringBuilder();
    private int docPiece;
    private boolean done;

    SourceFile(Path path, SourceSpec spec, SourceStats stats) throws IOException {
        this.path = path;
        this.spec = spec;
        this.stats = stats;
        this.counted = new Counting(new DigestInputStream(Files.newInputStream(path), digest));
        this.raw = new BufferedInputStream(counted, 1 << 16);
        String detected = detectCompression(raw);
        this.compression = detected;
        // Damage found while opening (a bzip2 or xz header is read at once) is handled by the policy in next(),
        // like damage found later, so that SKIP can skip the file and FAIL names it the same way.
        InputStream decompressed = raw;
        TarArchiveInputStream tarStream = null;
        IOException failure = null;
        try {
            if (!detected.isEmpty()) {
                decompressed = new BufferedInputStream(new CompressorStreamFactory().createCompressorInputStream(detected, raw, true), 1 << 16);
            }
            decompressed.mark(512);
            byte[] head = decompressed.readNBytes(512);
            decompressed.reset();
            if (head.length == 512 && TarArchiveInputStream.matches(head, head.length)) {
                tarStream = new TarArchiveInputStream(decompressed);
            }
        } catch (CompressorException e) {
            failure = e.getCause() instanceof IOException io ? io : new IOException(e.getMessage(), e);
        } catch (IOException e) {
            failure = e;
        }
        this.tar = tarStream;
        this.content = decompressed;
        this.openFailure = failure;
    }

    String compression() {
        return compression.isEmpty() ? (tar != null ? "tar" : "none") : compression + (tar != null ? "+tar" : "");
    }

    /** Raw bytes read from the file so far (for progress). */
    long bytesRead() {
        return counted.count;
    }

    private static String detectCompression(BufferedInputStream in) {
        try {
            String name = CompressorStreamFactory.detect(in);
            return COMPRESSIONS.contains(name) ? name : "";
        } catch (CompressorException e) {
            return ""; // no known signature: plain
        }
    }

    /** The next document piece, or null when the file is done. */
    Document next() throws IOException {
        if (openFailure != null) {
            IOException e = openFailure;
            openFailure = null;
            corrupt(e);
        }
        while (!done) {
            if (reader == null && !openNextEntry()) {
                finish();
                return null;
            }
            if (reader == null) {
                continue;
            }
            Document d;
            try {
                d = switch (spec.format()) {
                    case TEXT_FILE -> readTextFile();
                    case TEXT_BLOCKS -> readBlock();
                    case TEXT_LINES -> readLineDocument();
                    case JSONL -> readJsonLine();
                };
            } catch (IOException e) {
                corrupt(e);
                continue;
            }
            if (d != null) {
                return d;
            }
            stats.addRepaired(reader.replacements());
            reader = null;
        }
        return null;
    }

    // ---- entries -------------------------------------------------------------------------------------------------

    private boolean openNextEntry() throws IOException {
        InputStream entry;
        try {
            if (tar == null) {
                if (wholeStreamTaken) {
                    return false;
                }
                wholeStreamTaken = true;
                entryName = path.toString();
                entry = content;
            } else {
                TarArchiveEntry e;
                do {
                    e = tar.getNextEntry();
                } while (e != null && !e.isFile());
                if (e == null) {
                    return false;
                }
                entryName = path + "!/" + e.getName();
                entry = new BufferedInputStream(new NonClosing(tar), 1 << 16);
            }
            entry.mark(SNIFF_BYTES);
            byte[] head = entry.readNBytes(SNIFF_BYTES);
            entry.reset();
            if (head.length == 0) {
                stats.addEmpty(entryName + ": empty, skipped");
                return true; // reader stays null: next() moves on
            }
            for (int i = 0; i < head.length; i++) {
                if (head[i] == 0) {
                    String what = entryName + ": not UTF-8 text (a NUL byte at offset " + i + "; binary, or UTF-16)";
                    if (spec.onError() == OnError.FAIL) {
                        throw new BadInput(what + ": remove it" + (tar != null ? " from the archive" : "")
                                + ", convert it to UTF-8, or pass --on-error skip");
                    }
                    stats.addSkipped(what + ", skipped");
                    return true;
                }
            }
        } catch (BadInput e) {
            throw e;
        } catch (IOException e) {
            corrupt(e);
            return true;
        }
        reader = new Utf8Reader(entry);
        pos = 0;
        lim = 0;
        line = 0;
        doc.setLength(0);
        docPiece = 0;
        if (fill() && buf[pos] == '\uFEFF') {
            pos++; // a UTF-8 byte order mark is not text
        }
        return true;
    }

    private void corrupt(IOException e) throws IOException {
        if (e instanceof BadInput) {
            throw e;
        }
        String kind = compression.isEmpty() ? (tar != null ? "tar" : "file") : compression + (tar != null ? "+tar" : "");
        String what = path + ": the " + kind + " data is corrupt or truncated near byte " + counted.count + " of the file"
                + (reader != null ? " (text line " + (line + 1) + (tar != null ? " of " + entryName : "") + ")" : "")
                + ": " + e;
        if (spec.onError() == OnError.FAIL) {
            throw new BadInput(what + ". Re-create or re-download the file, or pass --on-error skip to keep what was read before the damage", e);
        }
        stats.addSkipped(what + "; the rest of the file was skipped");
        if (reader != null) {
            stats.addRepaired(reader.replacements());
        }
        reader = null;
        done = true;
    }

    private void finish() throws IOException {
        done = true;
        // Drain the file so the checksum covers every byte (tar padding, gzip trailer, concatenated members).
        byte[] skip = new byte[1 << 16];
        while (raw.read(skip) >= 0) {
            // counting only
        }
        stats.sha256(HexFormat.of().formatHex(digest.digest()));
    }

    // ---- formats -------------------------------------------------------------------------------------------------

    private Document readTextFile() throws IOException {
        while (doc.length() < Documents.PIECE_CHARS) {
            if (!fill()) {
                return endOfDocument();
            }
            doc.append(buf, pos, lim - pos);
            pos = lim;
        }
        return piece(cutPoint());
    }

    private Document readBlock() throws IOException {
        while (true) {
            String l = readLine();
            if (l == null) {
                return endOfDocument();
            }
            if (l.isBlank()) {
                if (doc.length() > 0) {
                    return endOfDocument();
                }
                continue;
            }
            doc.append(l).append('\n');
            if (doc.length() > Documents.PIECE_CHARS) {
                // the cut is before the newline just read, so if the block ends here endOfDocument drops it as usual
                return piece(cutPoint());
            }
        }
    }

    private Document readLineDocument() throws IOException {
        while (true) {
            String l = readLine();
            if (l == null) {
                return null;
            }
            if (!l.isBlank()) {
                stats.addDocument();
                return new Document(entryName, l);
            }
        }
    }

    private Document readJsonLine() throws IOException {
        while (true) {
            String l = readLine();
            if (l == null) {
                return null;
            }
            if (l.isBlank()) {
                continue;
            }
            String where = entryName + " line " + line;
            String problem;
            try {
                JsonElement e = JsonParser.parseString(l);
                if (!e.isJsonObject()) {
                    problem = "is JSON but not an object";
                } else {
                    JsonObject o = e.getAsJsonObject();
                    JsonElement field = o.get(spec.jsonField());
                    if (field == null) {
                        problem = "has no field \"" + spec.jsonField() + "\" (fields: " + o.keySet() + ")";
                    } else if (!field.isJsonPrimitive() || !field.getAsJsonPrimitive().isString()) {
                        problem = "has field \"" + spec.jsonField() + "\" but it is not a string";
                    } else {
                        String text = field.getAsString();
                        if (text.isEmpty()) {
                            stats.addEmpty(where + ": empty text, skipped");
                            continue;
                        }
                        stats.addDocument();
                        return new Document(entryName, text);
                    }
                }
            } catch (JsonParseException | IllegalStateException | StackOverflowError ex) {
                problem = "is not valid JSON (" + ex.getMessage() + ")";
            }
            if (spec.onError() == OnError.FAIL) {
                throw new BadInput(where + " " + problem + ": fix the line, choose the field with --field, or pass --on-error skip");
            }
            stats.addSkipped(where + " " + problem + ", skipped");
        }
    }

    /** Ends the current document: the remaining text is its last piece (or nothing, if it is empty). */
    private Document endOfDocument() {
        if (doc.length() > 0 && doc.charAt(doc.length() - 1) == '\n' && spec.format() == TextFormat.TEXT_BLOCKS) {
            doc.setLength(doc.length() - 1);
        }
        if (doc.length() == 0 || (docPiece == 0 && doc.toString().isBlank())) {
            if (docPiece > 0) {
                // a long document whose last piece is empty: still end it
                Document d = new Document(entryName, "", docPiece, true);
                docPiece = 0;
                stats.addDocument();
                return d;
            }
            if (spec.format() == TextFormat.TEXT_FILE && doc.length() > 0) {
                stats.addEmpty(entryName + ": only whitespace, skipped");
            }
            doc.setLength(0);
            return null;
        }
        Document d = new Document(entryName, doc.toString(), docPiece, true);
        doc.setLength(0);
        docPiece = 0;
        stats.addDocument();
        return d;
    }

    /** A non-final piece of the current long document made of its first {@code n} chars. */
    private Document piece(int n) {
        Document d = new Document(entryName, doc.substring(0, n), docPiece++, false);
        doc.delete(0, n);
        return d;
    }

    /**
     * After the last lone newline (between two non-space characters) in the second half of the buffer, so that a long
     * text is cut where GPT-2's and cl100k's split patterns also end a pre-token (a whitespace run cut in two would
     * be split differently): the pieces then tokenize exactly as the whole text would. Else after any newline, else
     * at the limit.
     */
    private int cutPoint() {
        int limit = Documents.PIECE_CHARS;
        for (int i = limit - 1; i >= limit / 2; i--) {
            if (doc.charAt(i) == '\n' && i + 1 < doc.length() && !Character.isWhitespace(doc.charAt(i + 1))
                    && !Character.isWhitespace(doc.charAt(i - 1))) {
                return i + 1;
            }
        }
        for (int i = limit - 1; i >= limit / 2; i--) {
            if (doc.charAt(i) == '\n') {
                return i + 1;
            }
        }
        return Character.isHighSurrogate(doc.charAt(limit - 1)) ? limit - 1 : limit;
    }

    // ---- characters and lines ------------------------------------------------------------------------------------

    private boolean fill() throws IOException {
        if (pos < lim) {
            return true;
        }
        int n;
        do {
            n = reader.read(buf, 0, buf.length);
        } while (n == 0);
        if (n < 0) {
            return false;
        }
        pos = 0;
        lim = n;
        return true;
    }

    /** The next line without its terminator (\n or \r\n), or null at the end. */
    private String readLine() throws IOException {
        if (!fill()) {
            return null;
        }
        StringBuilder sb = null;
        while (true) {
            int start = pos;
            while (pos < lim && buf[pos] != '\n') {
                pos++;
            }
            boolean found = pos < lim;
            int end = pos;
            if (found) {
                pos++;
            }
            if (sb == null && found) {
                line++;
                return new String(buf, start, stripCr(buf, start, end) - start);
            }
            if (sb == null) {
                sb = new StringBuilder();
            }
            sb.append(buf, start, end - start);
            if (found || !fill()) {
                line++;
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
        }
    }

    private static int stripCr(char[] b, int start, int end) {
        return end > start && b[end - 1] == '\r' ? end - 1 : end;
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }

    /** Bad input reported under {@link OnError#FAIL}; never re-wrapped as corruption. */
    static final class BadInput extends IOException {
        BadInput(String message) {
            super(message);
        }

        BadInput(String message, Throwable cause) {
            super(message, cause);
        }
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
            byte[] sink = new byte[(int) Math.min(n, 1 << 16)];
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
