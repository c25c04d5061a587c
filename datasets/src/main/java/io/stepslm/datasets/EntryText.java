package io.stepslm.datasets;

import java.io.IOException;
import java.io.InputStream;

/**
 * The characters of one entry, decoded by {@link Utf8Reader} (invalid UTF-8 repaired and counted) and read in
 * blocks or in lines; a leading byte order mark is not text and is dropped. Holds one 64 Ki-char buffer, so a
 * whole-file document can be gathered piece by piece without reading lines.
 */
final class EntryText {
    private final Utf8Reader reader;
    private final char[] buf = new char[1 << 16];
    private int pos;
    private int lim;
    private long line;

    EntryText(InputStream in) throws IOException {
        this.reader = new Utf8Reader(in);
        if (fill() && buf[pos] == '\uFEFF') {
            pos++;
        }
    }

    /** Invalid UTF-8 sequences replaced so far. */
    long replacements() {
        return reader.replacements();
    }

    /** Lines read so far (the number of the last line returned). */
    long line() {
        return line;
    }

    /** Appends the next block of characters to {@code sb}; false at the end of the entry. */
    boolean appendTo(StringBuilder sb) throws IOException {
        if (!fill()) {
            return false;
        }
        sb.append(buf, pos, lim - pos);
        pos = lim;
        return true;
    }

    /** The next line without its terminator (\n or \r\n), or null at the end. */
    String readLine() throws IOException {
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

    /** The next line that is not blank, or null at the end. */
    String readNonBlankLine() throws IOException {
        String l;
        do {
            l = readLine();
        } while (l != null && l.isBlank());
        return l;
    }

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

    private static int stripCr(char[] b, int start, int end) {
        return end > start && b[end - 1] == '\r' ? end - 1 : end;
    }
}
