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
 * The folder of one training run (what {@code stepslm train --out} names); its layout is known here alone:
 * <pre>
 *   checkpoints/step-000250/   a {@link CheckpointFolder} every checkpoint interval and at the end (newest kept)
 *   checkpoints/best/          the checkpoint with the lowest validation loss so far
 *   metrics.jsonl              {@link Metrics}
 *   report.html, *.png         {@link TrainingReport}
 * </pre>
 * Each checkpoint is written into a temporary folder ({@code checkpoints/.tmp-...}) and renamed into place only
 * when complete, so a crash, {@code kill -9} or a full disk while saving leaves the previous checkpoints valid;
 * older step checkpoints are pruned only after the new one exists. Leftover temporary folders from a killed save
 * are deleted when the run folder is opened again.
 */
public final class RunFolder {

    public static final String CHECKPOINTS = "checkpoints";
    public static final String BEST = "best";
    private static final String PREFIX = "step-";
    private static final String TMP = ".tmp-";

    /** Writes the content of one checkpoint into the (empty, temporary) folder it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path folder) throws IOException;
    }

    private final Path dir;
    private final Path checkpoints;

    /** Opens (creating it if needed) the run folder {@code dir} for writing checkpoints. */
    public RunFolder(Path dir) throws IOException {
        this.dir = dir;
        this.checkpoints = dir.resolve(CHECKPOINTS);
        Files.createDirectories(checkpoints);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(checkpoints, TMP + "*")) {
            for (Path leftover : s) {
                AtomicFiles.deleteRecursively(leftover);
            }
        }
    }

    public Path dir() {
        return dir;
    }

    /** {@code <run>/checkpoints}. */
    public Path checkpoints() {
        return checkpoints;
    }

    /** The folder name of the step checkpoint after {@code step} optimizer steps. */
    public static String name(long step) {
        return String.format("%s%06d", PREFIX, step);
    }

    /** Writes {@code step-NNNNNN} atomically, then keeps only the newest {@code keep} step checkpoints. */
    public Path save(long step, Content content, int keep) throws IOException {
        Path target = writeAtomically(name(step), content);
        List<Path> steps = stepCheckpoints();
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
        Path tmp = checkpoints.resolve(TMP + name);
        AtomicFiles.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        try {
            content.writeTo(tmp);
            Path target = checkpoints.resolve(name);
            AtomicFiles.replaceDirectory(tmp, target); // the old folder goes only once the new one is in place
            return target;
        } catch (IOException | RuntimeException e) {
            try {
                AtomicFiles.deleteRecursively(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IOException("could not save checkpoint " + checkpoints.resolve(name) + " (" + e.getMessage()
                    + "); the previous checkpoints are intact: free disk space or choose another --out", e);
        }
    }

    /** Complete step checkpoints, oldest first. */
    public List<Path> stepCheckpoints() throws IOException {
        List<Path> steps = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(checkpoints, PREFIX + "*")) {
            for (Path p : s) {
                steps.add(p);
            }
        }
        steps.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return steps;
    }

    /** The run folder a checkpoint folder of it belongs to ({@code <run>/checkpoints/<name>}). */
    public static Path runOf(Path checkpointFolder) {
        Path checkpoints = checkpointFolder.getParent();
        Path run = checkpoints == null ? null : checkpoints.getParent();
        return run != null ? run : checkpointFolder.toAbsolutePath().getParent().getParent();
    }

    /**
     * The checkpoint folder that {@code --resume path} means: a checkpoint folder itself, or a run folder (its newest
     * step checkpoint).
     */
    public static Path resolveResume(Path path) throws IOException {
        if (Files.isRegularFile(path.resolve(TrainState.FILE))) {
            return path;
        }
        if (Files.isDirectory(path.resolve(CHECKPOINTS))) {
            List<Path> steps = new RunFolder(path).stepCheckpoints();
            if (!steps.isEmpty()) {
                return steps.get(steps.size() - 1);
            }
        }
        throw new IOException("no checkpoint to resume in " + path + ": pass a run folder (given to --out) that has "
                + CHECKPOINTS + "/step-*, or one checkpoint folder containing " + TrainState.FILE);
    }

    /**
     * The checkpoint folder that inference ({@code eval}, {@code generate}) reads for {@code path}: a checkpoint
     * folder as is; a run folder: its {@code best/} checkpoint, else its newest step checkpoint.
     */
    public static Path resolveForInference(Path path) throws IOException {
        if (Files.isDirectory(path.resolve(CheckpointFolder.MODEL))) {
            return path;
        }
        Path best = path.resolve(CHECKPOINTS).resolve(BEST);
        if (Files.isDirectory(best.resolve(CheckpointFolder.MODEL))) {
            return best;
        }
        if (!Files.exists(path)) {
            throw new IOException("--checkpoint " + path + " does not exist: pass a run folder given to "
                    + "'stepslm train --out' or a checkpoint folder");
        }
        return resolveResume(path);
    }

    /** Refuses a run folder that is a file, lies under a file, or cannot be written (it may not exist yet). */
    public static void requireWritableFolder(Path runDir) {
        // checked before any data is read or a model built: a bad --out fails in a second, not after minutes
        Path existing = runDir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && !Files.isDirectory(existing)) {
            String what = existing.equals(runDir.toAbsolutePath()) ? " is a file"
                    : " lies under " + existing + ", which is a file";
            throw new IllegalArgumentException("the run folder " + runDir + what
                    + ": choose another --out (a folder, created if missing)");
        }
        if (existing != null && !Files.isWritable(existing)) {
            throw new IllegalArgumentException("the run folder " + runDir + " cannot be written (" + existing
                    + " is not writable): choose another --out or fix the folder's permissions");
        }
    }

    /**
     * Refuses to start a new run in a folder that already holds one: its checkpoints would be pruned in step-name
     * order together with the new run's, and its metrics mixed with the new ones.
     */
    public static void requireNew(Path dir) throws IOException {
        requireWritableFolder(dir);
        boolean used = Files.exists(dir.resolve(Metrics.FILE));
        Path checkpoints = dir.resolve(CHECKPOINTS);
        if (Files.isDirectory(checkpoints)) {
            try (Stream<Path> s = Files.list(checkpoints)) {
                used |= s.anyMatch(p -> !p.getFileName().toString().startsWith(TMP));
            }
        }
        if (used) {
            throw new IllegalArgumentException("the run folder " + dir + " already holds a training run: "
                    + "continue it with --resume " + dir + ", or choose another --out (or delete the folder)");
        }
    }

    /** Deletes a previous run's checkpoints, metrics and report from {@code dir} (the demo replaces its own run). */
    public static void clear(Path dir) throws IOException {
        AtomicFiles.deleteRecursively(dir.resolve(CHECKPOINTS));
        Files.deleteIfExists(dir.resolve(Metrics.FILE));
        for (String f : TrainingReport.FILES) {
            Files.deleteIfExists(dir.resolve(f));
        }
    }
}
