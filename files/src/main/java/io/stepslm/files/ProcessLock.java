package io.stepslm.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock held by one process for as long as it writes something that a second writer would spoil (a run
 * folder, a dataset being prepared). It is an OS file lock ({@code fcntl} through {@link FileChannel#tryLock()}),
 * so a process that dies, even by {@code kill -9}, releases it at once. The lock file stays and holds the pid of
 * its last holder, for the refusal message; it is never deleted, because deleting it would let a third process lock
 * a new file while a second still holds the old one.
 */
public final class ProcessLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private ProcessLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on {@code file} (created, with its folders, if missing), or refuses at once with an
     * {@link IllegalStateException} reading "{@code what} is in use by another stepslm process (pid N): {@code fix}".
     */
    public static ProcessLock acquire(Path file, String what, String fix) throws IOException {
        ProcessLock lock = tryAcquire(file);
        if (lock == null) {
            String holder = holder(file);
            throw new IllegalStateException(what + " is in use by another stepslm process"
                    + (holder.isEmpty() ? "" : " (pid " + holder + ")") + ": " + fix);
        }
        return lock;
    }

    /** Takes the lock on {@code file} (created, with its folders, if missing), or returns null if it is held. */
    public static ProcessLock tryAcquire(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this JVM holds it already (a second writer in one process)
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            return null;
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        return new ProcessLock(ch, lock);
    }

    /** The pid the last holder of {@code file} wrote in it ("" if none), for messages. */
    public static String holder(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8).strip() : "";
    }

    /** Releases the lock (the OS also releases it when the process ends, however it ends). */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
