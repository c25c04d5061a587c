package io.stepslm.datasets;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.stream.Stream;

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

    /** Reads every file the spec resolves to. */
    public static Documents open(SourceSpec spec) throws IOException {
        return new Documents(spec, resolve(spec.inputs()), new DataReport());
    }

    /** Reads the given files, already resolved, accounting into {@code report}. */
    static Documents open(SourceSpec spec, List<Path> files, DataReport report) {
        return new Documents(spec, files, report);
    }

    /**
     * Files named by the inputs: a file as is, a folder recursively (hidden files and folders skipped, like git's
     * and HuggingFace datasets' data_files), a glob such as {@code data/**.jsonl.zst} by walking its fixed prefix.
     * Each input's files are sorted by path so runs are reproducible; inputs keep the order given; duplicates are
     * dropped. An input that names nothing is an error, never an empty corpus.
     */
    public static List<Path> resolve(List<String> inputs) throws IOException {
        Set<Path> out = new LinkedHashSet<>();
        for (String input : inputs) {
            List<Path> found = new ArrayList<>();
            if (isGlob(input)) {
                int firstMeta = firstGlobChar(input);
                int slash = input.lastIndexOf('/', firstMeta);
                Path base = Path.of(slash < 0 ? "." : (slash == 0 ? "/" : input.substring(0, slash)));
                String pattern = slash < 0 ? "./" + input : input;
                // As in Python's glob and gitignore, "**/" also matches no folder at all ("a/**/*.txt" takes a/x.txt).
                PathMatcher deep = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
                PathMatcher flat = FileSystems.getDefault().getPathMatcher("glob:" + pattern.replace("/**/", "/"));
                PathMatcher m = p -> deep.matches(p) || flat.matches(p);
                if (!Files.isDirectory(base)) {
                    throw new NoSuchFileException(base.toString(), null, "the folder of the glob pattern " + input + " does not exist");
                }
                try (Stream<Path> s = Files.walk(base)) {
                    s.filter(p -> m.matches(p) && Files.isRegularFile(p) && !hidden(base, p)).forEach(found::add);
                }
                if (found.isEmpty()) {
                    throw new NoSuchFileException(input, null, "the glob pattern matched no file (check the pattern; quote it so the shell does not expand it)");
                }
            } else {
                Path p = Path.of(input);
                if (Files.isDirectory(p)) {
                    try (Stream<Path> s = Files.walk(p)) {
                        s.filter(f -> Files.isRegularFile(f) && !hidden(p, f)).forEach(found::add);
                    }
                    if (found.isEmpty()) {
                        throw new IOException(input + ": the folder has no (non-hidden) files: give a folder with text files");
                    }
                } else if (Files.isRegularFile(p)) {
                    found.add(p);
                } else if (Files.exists(p)) {
                    throw new IOException(input + ": not a regular file or folder");
                } else {
                    throw new NoSuchFileException(input);
                }
            }
            found.sort(null);
            for (Path f : found) {
                if (!Files.isReadable(f)) {
                    throw new AccessDeniedException(f.toString(), null, "cannot read it: fix its permissions or leave it out of the inputs");
                }
            }
            out.addAll(found);
        }
        return List.copyOf(out);
    }

    private static boolean isGlob(String s) {
        return firstGlobChar(s) < s.length();
    }

    private static int firstGlobChar(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == '{') {
                return i;
            }
        }
        return s.length();
    }

    private static boolean hidden(Path base, Path p) {
        for (Path part : base.relativize(p)) {
            if (part.toString().startsWith(".") && !part.toString().equals(".") && !part.toString().equals("..")) {
                return true;
            }
        }
        return false;
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
