package io.stepslm.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 and repairs invalid sequences with U+FFFD, as {@code InputStreamReader} does with
 * {@link CodingErrorAction#REPLACE}, but counts every repair so that the report can say how much was damaged
 * (a silent repair would hide a file saved in Latin-1).
 */
final class Utf8Reader extends Reader {
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).flip();
    private boolean eof;
    private boolean flushed;
    private long replacements;

    Utf8Reader(InputStream in) {
        this.in = in;
    }

    long replacements() {
        return replacements;
    }

    @Override
    public int read(char[] cbuf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (flushed) {
            return -1;
        }
        CharBuffer out = CharBuffer.wrap(cbuf, off, len);
        while (true) {
            CoderResult r = decoder.decode(bytes, out, eof);
            if (r.isError()) {
                // One U+FFFD per malformed sequence, the rule REPLACE (and the WHATWG decoder) follows. With
                // endOfInput set, a truncated final sequence is reported here too.
                if (!out.hasRemaining()) {
                    break;
                }
                out.put('\uFFFD');
                bytes.position(bytes.position() + r.length());
                replacements++;
                continue;
            }
            if (r.isOverflow()) {
                break;
            }
            if (!eof) {
                fill(); // underflow: fewer than 4 bytes are left, so the compaction in fill() is cheap
                continue;
            }
            if (!flushed) {
                decoder.flush(out);
                flushed = true;
            }
            break;
        }
        int n = out.position() - off;
        return n == 0 && eof ? -1 : n;
    }

    private void fill() throws IOException {
        if (eof) {
            return;
        }
        bytes.compact();
        int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
        if (n < 0) {
            eof = true;
        } else {
            bytes.position(bytes.position() + n);
        }
        bytes.flip();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
