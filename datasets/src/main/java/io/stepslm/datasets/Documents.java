package io.stepslm.datasets;

import io.stepslm.tokenizer.InputFiles;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The documents of a {@link SourceSpec}, file after file in a deterministic order. Used by the streaming loader, by
 * {@code stepslm data prepare} and by {@code stepslm eval}. Errors surface as {@link UncheckedIOException} from
 * {@link #hasNext()}/{@link #next()} with a message that names the file and the line or byte offset.
 */
public final class Documents implements Iterator<Document>, Closeable {

    /** Long documents are delivered in pieces of about this many chars (1 Mi) so that memory stays bounded. */
    public static final int PIECE_CHARS = 1 << 20;

    private final SourceSpec spec;
    private final List<Path> files;
    private final DataReport report;
    private int fileIndex = -1;
    private SourceFile current;
    private SourceStats currentStats;
    private SourceStats lastStats;
    private Document ahead;
    private long bytesOfClosedFiles;

    private Documents(SourceSpec spec, List<Path> files, DataReport report) {
        this.spec = spec;
        this.files = List.copyOf(files);
        this.report = report;
    }

    /** Reads every file the spec's inputs name ({@link InputFiles#resolve}). */
    public static Documents open(SourceSpec spec) throws IOException {
        return new Documents(spec, InputFiles.resolve(spec.inputs()), new DataReport());
    }

    /** Reads the given files, already resolved, accounting into {@code report}. */
    static Documents open(SourceSpec spec, List<Path> files, DataReport report) {
        return new Documents(spec, files, report);
    }

    public DataReport report() {
        return report;
    }

    public List<Path> files() {
        return files;
    }

    /** Raw (compressed) bytes read so far, for progress. */
    public long bytesRead() {
        return bytesOfClosedFiles + (current == null ? 0 : current.bytesRead());
    }

    @Override
    public boolean hasNext() {
        try {
            while (ahead == null) {
                if (current == null) {
                    if (fileIndex + 1 >= files.size()) {
                        return false;
                    }
                    fileIndex++;
                    Path f = files.get(fileIndex);
                    currentStats = report.add(f.toString(), Files.size(f));
                    current = new SourceFile(f, spec, currentStats);
                }
                ahead = current.next();
                if (ahead == null) {
                    bytesOfClosedFiles += current.bytesRead();
                    current.close();
                    current = null;
                }
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    @Override
    public Document next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Document d = ahead;
        ahead = null;
        lastStats = currentStats;
        return d;
    }

    /** Accounting of the file that the last document returned by {@link #next()} came from. */
    SourceStats statsOfLast() {
        if (lastStats == null) {
            throw new IllegalStateException("no document was read yet");
        }
        return lastStats;
    }

    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
