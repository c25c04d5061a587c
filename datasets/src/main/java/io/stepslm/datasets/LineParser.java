package io.stepslm.datasets;

import java.io.IOException;

/** {@link TextFormat#TEXT_LINES}: every non-blank line is one document. */
final class LineParser implements DocumentParser {
    private final String entry;
    private final EntryText text;
    private final SourceStats stats;

    LineParser(String entry, EntryText text, SourceStats stats) {
        this.entry = entry;
        this.text = text;
        this.stats = stats;
    }

    @Override
    public Document next() throws IOException {
        while (true) {
            String l = text.readLine();
            if (l == null) {
                return null;
            }
            if (!l.isBlank()) {
                stats.addDocument();
                return new Document(entry, l);
            }
        }
    }
}
