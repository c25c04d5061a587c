package io.stepslm.datasets;

/**
 * One document, or one piece of a long one. Very long documents (a multi-GB single-file book dump) are delivered in
 * pieces of about {@link Documents#PIECE_CHARS} characters cut at a lone newline (so that BPE gives the same ids
 * as for the whole text), and memory stays bounded;
 * {@code piece} counts from 0 and {@code last} marks the piece after which {@code <|endoftext|>} follows.
 *
 * @param source the file, or {@code archive.tar.gz!/entry} for a tar entry
 */
public record Document(String source, String text, int piece, boolean last) {

    public Document {
        if (piece < 0) {
            throw new IllegalArgumentException("piece must be >= 0, got " + piece);
        }
    }

    /** A whole document in one piece. */
    public Document(String source, String text) {
        this(source, text, 0, true);
    }
}
