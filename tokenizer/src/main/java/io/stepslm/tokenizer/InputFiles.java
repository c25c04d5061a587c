package io.stepslm.tokenizer;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The one way every command that reads text turns its inputs into files (tokenizer training here, and the datasets
 * module, which depends on this one, for data prepare, training and evaluation): a file as is, a folder
 * recursively (hidden files and folders skipped, like git's and HuggingFace datasets' data_files), a glob such as
 * {@code data/**.jsonl.zst} by walking its fixed prefix. Each input's files are sorted by path so runs are
 * reproducible; inputs keep the order given; duplicates are dropped. An input that names nothing is an error, never
 * an empty corpus.
 */
public final class InputFiles {

    private InputFiles() {}

    /** The regular files the inputs name, in a stable order. */
    public static List<Path> resolve(List<String> inputs) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no input given: pass at least one file, folder or glob pattern");
        }
        Set<Path> out = new LinkedHashSet<>();
        for (String input : inputs) {
            List<Path> found = isGlob(input) && !Files.exists(Path.of(input)) ? glob(input) : pathOrFolder(input);
            found.sort(null);
            for (Path f : found) {
                if (!Files.isReadable(f)) {
                    throw new AccessDeniedException(f.toString(), null,
                            "cannot read it: fix its permissions or leave it out of the inputs");
                }
            }
            out.addAll(found);
        }
        return List.copyOf(out);
    }

    private static List<Path> glob(String input) throws IOException {
        int firstMeta = firstGlobChar(input);
        int slash = input.lastIndexOf('/', firstMeta);
        Path base = Path.of(slash < 0 ? "." : (slash == 0 ? "/" : input.substring(0, slash)));
        String pattern = slash < 0 ? "./" + input : input;
        // As in Python's glob and gitignore, "**/" also matches no folder at all ("a/**/*.txt" takes a/x.txt).
        PathMatcher deep = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        PathMatcher flat = FileSystems.getDefault().getPathMatcher("glob:" + pattern.replace("/**/", "/"));
        PathMatcher m = p -> deep.matches(p) || flat.matches(p);
        if (!Files.isDirectory(base)) {
            throw new NoSuchFileException(base.toString(), null,
                    "the folder of the glob pattern " + input + " does not exist");
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(base)) {
            s.filter(p -> m.matches(p) && Files.isRegularFile(p) && !hidden(base, p)).forEach(found::add);
        }
        if (found.isEmpty()) {
            throw new NoSuchFileException(input, null,
                    "the glob pattern matched no file (check the pattern; quote it so the shell does not expand it)");
        }
        return found;
    }

    private static List<Path> pathOrFolder(String input) throws IOException {
        Path p = Path.of(input);
        List<Path> found = new ArrayList<>();
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
        return found;
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
            String name = part.toString();
            if (name.startsWith(".") && !name.equals(".") && !name.equals("..")) {
                return true;
            }
        }
        return false;
    }
}
