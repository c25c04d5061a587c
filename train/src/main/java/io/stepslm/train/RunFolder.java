package io.stepslm.train;

import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

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
    /** The metrics of a run that ended before its first checkpoint, set aside when a new run starts in its folder. */
    public static final String STALE_METRICS = "stale-metrics.jsonl";

    /** Writes the content of one checkpoint into the (empty, temporary) folder it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path folder) throws IOException;
    }

    private final Path dir;
    private final Path checkpoints;
    private final List<String> recovered = new ArrayList<>();

    /**
     * Opens (creating it if needed) the run folder {@code dir} for writing checkpoints, under the run's lock
     * ({@link RunLock}): a checkpoint whose replacement was killed between its two renames (only the set-aside copy
     * {@code .tmp-best.old} exists) is put back under its name, then the other leftovers of killed saves are deleted.
     */
    public RunFolder(Path dir) throws IOException {
        this.dir = dir;
        this.checkpoints = dir.resolve(CHECKPOINTS);
        Files.createDirectories(checkpoints);
        List<Path> leftovers = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(checkpoints, TMP + "*")) {
            s.forEach(leftovers::add);
        }
        for (Path leftover : leftovers) {
            String name = leftover.getFileName().toString();
            Path staged = checkpoints.resolve(name.replaceFirst("\\.old$", ""));
            Path target = checkpoints.resolve(staged.getFileName().toString().substring(TMP.length()));
            if (name.endsWith(".old") && AtomicFiles.restoreAside(staged, target)) {
                recovered.add("restored " + target + " from " + leftover + " (a save was killed between its two "
                        + "renames)");
            }
        }
        for (Path leftover : leftovers) {
            AtomicFiles.deleteRecursively(leftover);
        }
    }

    /** One line per checkpoint that opening the folder put back (for the log; usually none). */
    public List<String> recovered() {
        return List.copyOf(recovered);
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
        return stepCheckpoints(checkpoints);
    }

    /** The step checkpoints in {@code checkpoints}, oldest first, read without touching anything (no lock held). */
    private static List<Path> stepCheckpoints(Path checkpoints) throws IOException {
        List<Path> steps = new ArrayList<>();
        if (!Files.isDirectory(checkpoints)) {
            return steps;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(checkpoints, PREFIX + "*")) {
            for (Path p : s) {
                steps.add(p);
            }
        }
        steps.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return steps;
    }

    /**
     * The run folder a checkpoint folder belongs to ({@code <run>/checkpoints/<name>}), or null when it lies
     * elsewhere (a copied or downloaded checkpoint: the continued run then needs its own --out).
     */
    public static Path runOf(Path checkpointFolder) {
        Path abs = checkpointFolder.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        boolean inRun = parent != null && parent.getFileName() != null
                && parent.getFileName().toString().equals(CHECKPOINTS) && parent.getParent() != null;
        return inRun ? parent.getParent() : null;
    }

    /**
     * The checkpoint folder that {@code --resume path} means: a checkpoint folder itself, or a run folder (its newest
     * step checkpoint, else its {@code best/}). Reads only: the run may be in use by another process (the lock is
     * taken later), so no leftover is touched here.
     */
    public static Path resolveResume(Path path) throws IOException {
        if (Files.isRegularFile(path.resolve(TrainState.FILE))) {
            return path;
        }
        List<Path> steps = stepCheckpoints(path.resolve(CHECKPOINTS));
        if (!steps.isEmpty()) {
            return steps.get(steps.size() - 1);
        }
        Path best = path.resolve(CHECKPOINTS).resolve(BEST);
        if (Files.isRegularFile(best.resolve(TrainState.FILE))) {
            return best;
        }
        if (Files.exists(path.resolve(Metrics.FILE)) || Files.exists(path.resolve(RunData.FILE))
                || Files.isDirectory(path.resolve(CHECKPOINTS))) {
            throw new IllegalArgumentException("nothing to resume in " + path + ": it holds no checkpoint (the run "
                    + "ended before its first one was written); start it afresh with --out " + path);
        }
        throw new IOException("no checkpoint to resume in " + path + ": pass a run folder (given to --out) that has "
                + CHECKPOINTS + "/step-*, or one checkpoint folder containing " + TrainState.FILE);
    }

    /**
     * The checkpoint folder that inference ({@code eval}, {@code generate}) reads for {@code path}: a checkpoint
     * folder as is; a run folder: its {@code best/} checkpoint, else its newest step checkpoint, which {@code note}
     * is told in one line (a run without best/ is one that never improved on its first evaluation, or whose best/
     * was being replaced when it was killed).
     */
    public static Path resolveForInference(Path path, Consumer<String> note) throws IOException {
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
        List<Path> steps = stepCheckpoints(path.resolve(CHECKPOINTS));
        if (steps.isEmpty()) {
            throw new IOException("--checkpoint " + path + " holds no checkpoint (no " + CHECKPOINTS + "/" + BEST
                    + " or " + CHECKPOINTS + "/step-*): pass a run folder that has one, or a checkpoint folder");
        }
        Path newest = steps.get(steps.size() - 1);
        note.accept("note: " + path + " has no " + CHECKPOINTS + "/" + BEST + "/, so " + newest
                + " (its newest checkpoint) is used; pass --checkpoint with another folder to choose");
        return newest;
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
     * Refuses to start a new run in a folder that already holds one (a complete checkpoint): its checkpoints would
     * be pruned in step-name order together with the new run's, and its metrics mixed with the new ones. A folder
     * with metrics but no checkpoint (a run that died before its first one) is not a run: see {@link #setAside}.
     */
    public static void requireNew(Path dir) throws IOException {
        requireWritableFolder(dir);
        if (!stepCheckpoints(dir.resolve(CHECKPOINTS)).isEmpty()
                || Files.isDirectory(dir.resolve(CHECKPOINTS).resolve(BEST))) {
            throw new IllegalArgumentException("the run folder " + dir + " already holds a training run: "
                    + "continue it with --resume " + dir + ", or choose another --out (or delete the folder)");
        }
    }

    /**
     * Before a new run starts in {@code dir} (under its lock, after {@link #requireNew}): the metrics of an earlier
     * run that ended before its first checkpoint are renamed to {@value #STALE_METRICS} (replacing an older such
     * file), so they neither mix with the new run's nor are lost. Returns the line to log, or "" when there were none.
     */
    public static String setAside(Path dir) throws IOException {
        Path metrics = dir.resolve(Metrics.FILE);
        if (!Files.exists(metrics)) {
            return "";
        }
        Path stale = dir.resolve(STALE_METRICS);
        AtomicFiles.move(metrics, stale);
        return "starting afresh in " + dir + ": it held no checkpoint (an earlier run ended before its first one); "
                + "its " + Metrics.FILE + " is now " + STALE_METRICS;
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
