package io.stepslm.datasets;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The documents of one file: its entries from {@link SourceStream} (decompressed, tar entries one by one), each
 * decoded by {@link EntryText} and cut by the {@link DocumentParser} of the format, with the {@link OnError} policy
 * applied to whatever is damaged or not text. Holds at most one document piece (or one JSONL line) in memory.
 */
final class SourceFile implements Closeable {

    private final Path path;
    private final SourceSpec spec;
    private final SourceStats stats;
    private final SourceStream stream;
    private String entryName;
    private EntryText text;
    private DocumentParser parser;
    private boolean done;

    SourceFile(Path path, SourceSpec spec, SourceStats stats) throws IOException {
        this.path = path;
        this.spec = spec;
        this.stats = stats;
        this.stream = new SourceStream(path);
    }

    /** none, tar, gzip, gzip+tar, ... */
    String compression() {
        return stream.compression();
    }

    /** Raw bytes read from the file so far (for progress). */
    long bytesRead() {
        return stream.bytesRead();
    }

    /** The next document piece, or null when the file is done. */
    Document next() throws IOException {
        IOException openFailure = stream.takeOpenFailure();
        if (openFailure != null) {
            corrupt(openFailure);
        }
        while (!done) {
            if (parser == null && !openNextEntry()) {
                done = true;
                stats.sha256(stream.finish());
                return null;
            }
            if (parser == null) {
                continue;
            }
            Document d;
            try {
                d = parser.next();
            } catch (IOException e) {
                corrupt(e);
                continue;
            }
            if (d != null) {
                return d;
            }
            stats.addRepaired(text.replacements());
            text = null;
            parser = null;
        }
        return null;
    }

    /** Moves to the next entry: false when there is none; true with no parser when the entry was skipped. */
    private boolean openNextEntry() throws IOException {
        try {
            SourceStream.Entry entry = stream.nextEntry();
            if (entry == null) {
                return false;
            }
            entryName = entry.name();
            if (entry.empty()) {
                stats.addEmpty(entryName + ": empty, skipped");
                return true;
            }
            if (entry.nulAt() >= 0) {
                String what = entryName + ": not UTF-8 text (a NUL byte at offset " + entry.nulAt()
                        + "; binary, or UTF-16)";
                if (spec.onError() == OnError.FAIL) {
                    throw new BadInput(what + ": remove it" + (stream.isTar() ? " from the archive" : "")
                            + ", convert it to UTF-8, or pass --on-error skip");
                }
                stats.addSkipped(what + ", skipped");
                return true;
            }
            text = new EntryText(entry.content());
        } catch (IOException e) {
            corrupt(e);
            return true;
        }
        parser = DocumentParser.of(spec, entryName, text, stats);
        return true;
    }

    private void corrupt(IOException e) throws IOException {
        if (e instanceof BadInput) {
            throw e;
        }
        String detail = PlainMessage.of(e);
        String what = path + ": truncated or corrupt " + stream.kind() + " stream near byte " + stream.bytesRead()
                + " of the file" + (text != null ? " (text line " + (text.line() + 1)
                + (stream.isTar() ? " of " + entryName : "") + ")" : "") + (detail.isEmpty() ? "" : ": " + detail);
        if (spec.onError() == OnError.FAIL) {
            throw new BadInput(what + "; re-create or re-download " + path + ", or pass --on-error skip to keep what "
                    + "was read before the damage", e);
        }
        stats.addSkipped(what + "; the rest of the file was skipped");
        if (text != null) {
            stats.addRepaired(text.replacements());
        }
        text = null;
        parser = null;
        done = true;
    }

    @Override
    public void close() throws IOException {
        stream.close();
    }

    /** Bad input reported under {@link OnError#FAIL}; never re-wrapped as corruption. */
    static final class BadInput extends IOException {
        BadInput(String message) {
            super(message);
        }

        BadInput(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
