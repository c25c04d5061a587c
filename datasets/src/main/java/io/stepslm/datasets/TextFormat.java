package io.stepslm.datasets;

/** How a text source is cut into documents. */
public enum TextFormat {
    /** The whole file (or tar entry) is one document: books, source files. */
    TEXT_FILE,
    /** Documents are separated by one or more blank lines. */
    TEXT_BLOCKS,
    /** Every non-blank line is one document. */
    TEXT_LINES,
    /** JSON Lines: one object per line, the document is the string in a configurable field (HuggingFace datasets' default "text"). */
    JSONL
}
