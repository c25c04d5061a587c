package io.stepslm.datasets;

import java.io.IOException;

/** {@link TextFormat#TEXT_BLOCKS}: documents are separated by one or more blank lines. */
record BlockParser(EntryText text, SourceStats stats, Pieces pieces) implements DocumentParser {

    @Override
    public Document next() throws IOException {
        StringBuilder doc = pieces.text();
        while (true) {
            String l = text.readLine();
            if (l == null) {
                return end();
            }
            if (l.isBlank()) {
                if (doc.length() > 0) {
                    return end();
                }
                continue;
            }
            doc.append(l).append('\n');
            if (doc.length() > Documents.PIECE_CHARS) {
                // the cut is before the newline just read, so if the block ends here end() drops it as usual
                return pieces.cut();
            }
        }
    }

    private Document end() {
        StringBuilder doc = pieces.text();
        if (doc.length() > 0 && doc.charAt(doc.length() - 1) == '\n') {
            doc.setLength(doc.length() - 1); // the newline after a block's last line separates, it is not text
        }
        Document d = pieces.end();
        if (d != null) {
            stats.addDocument();
        }
        return d;
    }
}
