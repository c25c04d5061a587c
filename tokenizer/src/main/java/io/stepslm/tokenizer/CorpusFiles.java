package io.stepslm.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Training input from files and folders: UTF-8 text read in blocks, so memory does not grow with the file size.
 * Invalid UTF-8 becomes U+FFFD and is counted (a warning, not a failure). Blocks are cut only where a space follows
 * a non-space: no GPT-2 or cl100k pre-token spans such a place, so counting blocks separately changes nothing.
 */
final class CorpusFiles {

    private static final int BLOCK_CHARS = 1 << 20;

    private final List<Path> files;
    private long invalidSequences;
    private long bytes;

    private CorpusFiles(List<Path> files) {
        this.files = files;
    }

    /** The files the inputs name, resolved by {@link InputFiles#resolve} as for every command that reads text. */
    static CorpusFiles of(List<Path> inputs) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no input given: pass at least one file or folder of UTF-8 text");
        }
        return new CorpusFiles(InputFiles.resolve(inputs.stream().map(Path::toString).toList()));
    }

    List<Path> files() {
        return files;
    }

    long totalBytes() throws IOException {
        long n = 0;
        for (Path f : files) {
            n += Files.size(f);
        }
        return n;
    }

    long invalidSequences() {
        return invalidSequences;
    }

    long bytesRead() {
        return bytes;
    }

    /**
     * Calls {@code sink} with blocks of text; a file's text never shares a block with another file's, and no block
     * boundary falls inside one of the {@code specials} (they must be matched whole).
     */
    void forEachBlock(List<String> specials, Consumer<String> sink) throws IOException {
        for (Path f : files) {
            readFile(f, specials, sink);
        }
    }

    private void readFile(Path f, List<String> specials, Consumer<String> sink) throws IOException {
        int keepTail = 1;
        for (String sp : specials) {
            keepTail = Math.max(keepTail, sp.length());
        }
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.allocate(1 << 16);
        CharBuffer out = CharBuffer.allocate(1 << 16);
        StringBuilder text = new StringBuilder(BLOCK_CHARS + (1 << 17));
        try (InputStream is = Files.newInputStream(f)) {
            boolean eof = false;
            while (!eof) {
                int n = is.read(in.array(), in.position(), in.remaining());
                if (n < 0) {
                    eof = true;
                } else {
                    in.position(in.position() + n);
                    bytes += n;
                }
                in.flip();
                while (true) {
                    CoderResult r = dec.decode(in, out, eof);
                    if (r.isError()) {
                        in.position(in.position() + r.length());
                        flush(out, text);
                        text.append('\uFFFD');
                        invalidSequences++;
                    } else if (r.isOverflow()) {
                        flush(out, text);
                    } else {
                        break;
                    }
                }
                in.compact();
                flush(out, text);
                if (text.length() >= BLOCK_CHARS) {
                    int cut = outsideSpecials(text, safeCut(text, text.length() - keepTail), specials);
                    if (cut > 0) {
                        sink.accept(text.substring(0, cut));
                        text.delete(0, cut);
                    }
                }
            }
            dec.flush(out);
            flush(out, text);
        } catch (IOException e) {
            throw new IOException(f + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (text.length() > 0) {
            sink.accept(text.toString());
        }
    }

    /** Moves a cut that falls inside a special token to the token's start (specials end pre-tokens anyway). */
    static int outsideSpecials(CharSequence text, int cut, List<String> specials) {
        int w = 0;
        for (String sp : specials) {
            w = Math.max(w, sp.length());
        }
        boolean moved = true;
        while (moved && cut > 0 && w > 0) {
            moved = false;
            int offset = Math.max(0, cut - w);
            String window = text.subSequence(offset, Math.min(text.length(), cut + w)).toString();
            for (String sp : specials) {
                for (int i = window.indexOf(sp); i >= 0; i = window.indexOf(sp, i + 1)) {
                    if (offset + i < cut && offset + i + sp.length() > cut) {
                        cut = offset + i;
                        moved = true;
                    }
                }
            }
        }
        return cut;
    }

    private static void flush(CharBuffer out, StringBuilder text) {
        out.flip();
        text.append(out);
        out.clear();
    }

    /**
     * The last position at or before {@code from} where no GPT-2 or cl100k pre-token can span: a space after a
     * non-whitespace character, or (for text without spaces, such as Chinese) a non-letter, non-whitespace character
     * after a letter (a letter run always ends there and nothing looks behind). 0 when there is none.
     */
    static int safeCut(CharSequence s, int from) {
        for (int p = Math.min(from, s.length() - 1); p > 0; p--) {
            char c = s.charAt(p);
            char before = s.charAt(p - 1);
            if (c == ' ' && !SplitPattern.isWhitespace(before) && !Character.isHighSurrogate(before)) {
                return p;
            }
            if (!Character.isLowSurrogate(c) && !SplitPattern.isWhitespace(c) && SplitPattern.classAt(s,
                    p) != SplitPattern.LETTER
                    && SplitPattern.classOf(Character.codePointBefore(s, p)) == SplitPattern.LETTER) {
                return p;
            }
        }
        return 0;
    }
}
