package io.stepslm.datasets;

import java.io.IOException;

/** {@link TextFormat#TEXT_LINES}: every non-blank line is one document. */
record LineParser(String entry, EntryText text, SourceStats stats) implements DocumentParser {

    @Override
    public Document next() throws IOException {
        String l = text.readNonBlankLine();
        if (l == null) {
            return null;
        }
        stats.addDocument();
        return new Document(entry, l);
    }
}
