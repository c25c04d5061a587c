package io.stepslm.datasets;

import java.io.IOException;

/** Cuts the text of one file or tar entry into documents, one implementation per {@link TextFormat}. */
interface DocumentParser {

    /** The next document (or piece of a long one) of the entry, or null at its end, then null again. */
    Document next() throws IOException;

    static DocumentParser of(SourceSpec spec, String entry, EntryText text, SourceStats stats) {
        return switch (spec.format()) {
            case TEXT_FILE -> new WholeTextParser(entry, text, stats, new Pieces(entry));
            case TEXT_BLOCKS -> new BlockParser(text, stats, new Pieces(entry));
            case TEXT_LINES -> new LineParser(entry, text, stats);
            case JSONL -> new JsonlParser(entry, text, stats, spec);
        };
    }
}
