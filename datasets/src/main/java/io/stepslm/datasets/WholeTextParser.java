package io.stepslm.datasets;

import java.io.IOException;

/** {@link TextFormat#TEXT_FILE}: the whole file or tar entry is one document (a book, a source file). */
final class WholeTextParser implements DocumentParser {
    private final String entry;
    private final EntryText text;
    private final SourceStats stats;
    private final Pieces pieces;

    WholeTextParser(String entry, EntryText text, SourceStats stats) {
        this.entry = entry;
        this.text = text;
        this.stats = stats;
        this.pieces = new Pieces(entry);
    }

    @Override
    public Document next() throws IOException {
        while (!pieces.full()) {
            if (!text.appendTo(pieces.text())) {
                if (pieces.blank()) {
                    stats.addEmpty(entry + ": only whitespace, skipped");
                }
                Document d = pieces.end();
                if (d != null) {
                    stats.addDocument();
                }
                return d;
            }
        }
        return pieces.cut();
    }
}
