package io.stepslm.datasets;

/**
 * What to do with bad input (a corrupt or truncated compressed stream, a non-text tar entry, a JSONL line that is not
 * JSON or lacks the field, an unreadable path). Invalid UTF-8 is always repaired with U+FFFD and counted, and empty
 * files are always skipped and counted: neither loses text a user could have meant.
 */
public enum OnError {
    /** Stop with the file and the line or byte offset (the default: a silent loss of data is worse than a stop). */
    FAIL,
    /** Skip the bad item, count it per source, and report the counts at the end. */
    SKIP
}
