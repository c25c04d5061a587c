package io.stepslm.train;

import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The checkpoint folders of a run: {@code <run>/checkpoints/step-000250/}, ..., and {@code best/}. Each is written
 * into a temporary folder ({@code .tmp-...}) and renamed into place only when complete, so a crash, {@code kill -9}
 * or a full disk while saving leaves the previous checkpoints valid; older step checkpoints are pruned only after
 * the new one exists. Leftover temporary folders from a killed save are deleted at the next start.
 */
public final class Checkpoints {

    public static final String DIR = "checkpoints";
    public static final String BEST = "best";
    private static final String PREFIX = "step-";
    private static final String TMP = ".tmp-";

    /** Writes the content of one checkpoint into the (empty, temporary) folder it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path folder) throws IOException;
    }

    private final Path root;

    public Checkpoints(Path runDir) throws IOException {
        this.root = runDir.resolve(DIR);
        Files.createDirectories(root);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, TMP + "*")) {
            for (Path leftover : s) {
                AtomicFiles.deleteRecursively(leftover);
            }
        }
    }

    public Path root() {
        return root;
    }

    public static String name(long step) {
        return String.format("%s%06d", PREFIX, step);
    }

    /** Writes {@code step-NNNNNN} atomically, then keeps only the newest {@code keep} step checkpoints. */
    public Path save(long step, Content content, int keep) throws IOException {
        Path target = writeAtomically(name(step), content);
        List<Path> steps = list();
        for (int i = 0; i < steps.size() - keep; i++) {
            AtomicFiles.deleteRecursively(steps.get(i));
        }
        return target;
    }

    /** Replaces {@code best/} atomically (the old best stays until the new one is complete). */
    public Path saveBest(Content content) throws IOException {
        return writeAtomically(BEST, content);
    }

    private Path writeAtomically(String name, Content content) throws IOException {
        Path tmp = root.resolve(TMP + name);
        AtomicFiles.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        try {
            content.writeTo(tmp);
            Path target = root.resolve(name);
            AtomicFiles.replaceDirectory(tmp, target); // the old folder goes only once the new one is in place
            return target;
        } catch (IOException | RuntimeException e) {
            try {
                AtomicFiles.deleteRecursively(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IOException("could not save checkpoint " + root.resolve(name) + " (" + e.getMessage()
                    + "); the previous checkpoints are intact: free disk space or choose another --out", e);
        }
    }

    /** Complete step checkpoints, oldest first. */
    public List<Path> list() throws IOException {
        List<Path> steps = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, PREFIX + "*")) {
            for (Path p : s) {
                steps.add(p);
            }
        }
        steps.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return steps;
    }

    /**
     * The checkpoint folder that {@code --resume path} means: a checkpoint folder itself, or a run folder (its newest
     * step checkpoint).
     */
    public static Path resolveResume(Path path) throws IOException {
        if (Files.isRegularFile(path.resolve(TrainState.FILE))) {
            return path;
        }
        Path root = path.resolve(DIR);
        if (Files.isDirectory(root)) {
            List<Path> steps = new Checkpoints(path).list();
            if (!steps.isEmpty()) {
                return steps.get(steps.size() - 1);
            }
        }
        throw new IOException("no checkpoint to resume in " + path + ": pass a run folder (given to --out) that has "
                + DIR + "/step-*, or one checkpoint folder containing " + TrainState.FILE);
    }

    /**
     * Refuses to start a new run in a folder that already holds one: its checkpoints would be pruned in step-name
     * order together with the new run's, and its metrics mixed with the new ones.
     */
    public static void requireNewRunFolder(Path runDir) throws IOException {
        boolean used = Files.exists(runDir.resolve(Metrics.FILE));
        Path root = runDir.resolve(DIR);
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.list(root)) {
                used |= s.anyMatch(p -> !p.getFileName().toString().startsWith(TMP));
            }
        }
        if (used) {
            throw new IllegalArgumentException("the run folder " + runDir
                    + " already holds a training run: continue it with --resume "
                    + runDir + ", or choose another --out (or delete the folder)");
        }
    }

    /** Deletes a previous run's checkpoints, metrics and report from {@code runDir} (the demo replaces its own run). */
    public static void clearRun(Path runDir) throws IOException {
        AtomicFiles.deleteRecursively(runDir.resolve(DIR));
        for (String f : List.of(Metrics.FILE, TrainingReport.FILE, "loss.png", "lr.png", "throughput.png")) {
            Files.deleteIfExists(runDir.resolve(f));
        }
    }

}
