package io.stepslm.datasets;

/**
 * Gathers the text of one long document and hands it out in pieces of about {@link Documents#PIECE_CHARS} chars, so
 * that memory stays bounded, cut where the pieces tokenize exactly as the whole text would (see {@link #cutPoint}).
 */
final class Pieces {
    private final String source;
    private final StringBuilder doc = new StringBuilder();
    private int piece;

    Pieces(String source) {
        this.source = source;
    }

    /** The text gathered so far, to append to. */
    StringBuilder text() {
        return doc;
    }

    /** True when a piece can be cut. */
    boolean full() {
        return doc.length() >= Documents.PIECE_CHARS;
    }

    /** True when the document so far is only whitespace, none of it handed out. */
    boolean blank() {
        return piece == 0 && doc.length() > 0 && doc.toString().isBlank();
    }

    /** A non-final piece, from the start of the gathered text to the cut point. */
    Document cut() {
        int n = cutPoint();
        Document d = new Document(source, doc.substring(0, n), piece++, false);
        doc.delete(0, n);
        return d;
    }

    /**
     * Ends the document: the rest is its last piece (empty when a long document ended right at a cut), or null when
     * the whole document was empty or blank, which is then dropped.
     */
    Document end() {
        if (doc.length() == 0 || (piece == 0 && doc.toString().isBlank())) {
            doc.setLength(0);
            if (piece == 0) {
                return null;
            }
            Document d = new Document(source, "", piece, true);
            piece = 0;
            return d;
        }
        Document d = new Document(source, doc.toString(), piece, true);
        doc.setLength(0);
        piece = 0;
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
}
