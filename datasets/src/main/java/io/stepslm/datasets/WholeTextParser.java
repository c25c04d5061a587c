package io.stepslm.datasets;

import java.io.IOException;

/** {@link TextFormat#TEXT_FILE}: the whole file or tar entry is one document (a book, a source file). */
record WholeTextParser(String entry, EntryText text, SourceStats stats, Pieces pieces) implements DocumentParser {

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
