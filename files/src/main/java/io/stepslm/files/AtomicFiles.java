package io.stepslm.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes that readers never see half done. A file is written to a temporary name in the same folder, forced to
 * disk and renamed over the target; a folder is staged completely, then swapped in. A rename within one folder is
 * atomic on POSIX file systems; where the file system refuses an atomic move ({@link AtomicMoveNotSupportedException},
 * e.g. some network or FUSE mounts) the one fallback is a plain replacing move, which is the best such a file system
 * offers. If writing fails, the target keeps its old content and the temporary file is removed.
 */
public final class AtomicFiles {

    /** Writes the whole content of a file into the (fresh, empty) temporary path it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path temporary) throws IOException;
    }

    private AtomicFiles() {}

    /** Replaces {@code target} with {@code bytes}, atomically (folders are created as needed). */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, tmp -> Files.write(tmp, bytes));
    }

    /** Replaces {@code target} with {@code text} in UTF-8, atomically. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }

    /** Replaces {@code target} with {@code lines}, each followed by a line separator, in UTF-8, atomically. */
    public static void writeLines(Path target, List<String> lines) throws IOException {
        write(target, tmp -> Files.write(tmp, lines, StandardCharsets.UTF_8));
    }

    /**
     * Replaces {@code target} with what {@code content} writes into a temporary file next to it ({@code
     * .<name>.<random>.tmp}), after forcing that file to disk, so the rename never publishes unwritten blocks.
     */
    public static void write(Path target, Content content) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        // createFile, not createTempFile: a temporary file is created 0600 and keeps that mode after the rename, so
        // tokenizer.json and checkpoints were unreadable to others while everything else follows the umask
        Path tmp = Files.createFile(dir.resolve("." + abs.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp"));
        tmp.toFile().deleteOnExit(); // Ctrl-C during the write: the JVM's exit removes the temporary file too
        try {
            content.writeTo(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            move(tmp, abs);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Renames {@code from} over {@code to}: atomic where the file system allows it, else the documented fallback.
     * The folder is then forced to disk too, so that the rename itself survives a power cut (a forced file under a
     * name that was never made durable can come back as the old file, or none).
     */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
        forceFolder(to.toAbsolutePath().getParent());
    }

    /**
     * fsync of a folder, as Lucene's {@code IOUtils.fsync(dir, true)} does it: opening a folder for reading works on
     * Linux and macOS; where it does not (Windows) the file system orders the rename itself, so failing is ignored.
     */
    private static void forceFolder(Path folder) {
        try (FileChannel ch = FileChannel.open(folder, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // not supported for folders on this platform
        }
    }

    /**
     * Puts the complete folder {@code staged} in place of {@code target} (which may be absent). Renaming over a
     * non-empty folder is impossible, so an existing target is first renamed aside to {@code staged}'s name plus
     * {@code ".old"} and deleted only after the new one is in place: at every moment one complete folder exists
     * under one of the two names, and a cleanup of leftover staged folders also finds the set-aside one.
     */
    public static void replaceDirectory(Path staged, Path target) throws IOException {
        if (!Files.isDirectory(staged)) {
            throw new IllegalArgumentException("the staged folder " + staged + " does not exist: write it before "
                    + "replacing " + target + " with it");
        }
        if (!Files.exists(target)) {
            move(staged, target);
            return;
        }
        Path aside = staged.resolveSibling(staged.getFileName() + ".old");
        deleteRecursively(aside);
        move(target, aside);
        move(staged, target);
        deleteRecursively(aside);
    }

    /**
     * Undoes the gap of a {@link #replaceDirectory} killed between its two renames: when {@code target} is missing
     * and the set-aside copy ({@code staged} + ".old") exists, that complete old folder is renamed back to {@code
     * target}. Returns whether it was. Call it before deleting leftover staged folders, or the only copy goes too.
     */
    public static boolean restoreAside(Path staged, Path target) throws IOException {
        Path aside = staged.resolveSibling(staged.getFileName() + ".old");
        if (Files.exists(target) || !Files.isDirectory(aside)) {
            return false;
        }
        move(aside, target);
        return true;
    }

    /** Deletes {@code path} and, if it is a folder, everything below it; nothing happens if it does not exist. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
