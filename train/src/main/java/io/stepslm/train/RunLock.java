package io.stepslm.train;

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
 * An exclusive lock on a run folder, held for the life of the training process: two processes writing one run
 * folder overwrite each other's checkpoints, best model and metrics. The lock is an OS file lock ({@code fcntl}
 * through {@link FileChannel#tryLock()}) on {@value #FILE} in the folder, so a process that dies, even by
 * {@code kill -9}, releases it at once; the file itself stays and holds the pid of the last holder, for the message.
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = ".stepslm.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock on {@code runDir} (created if missing), or refuses at once naming the process that holds it. */
    public static RunLock acquire(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path file = runDir.resolve(FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this JVM holds it already (a second run in one process)
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
            ch.close();
            throw new IllegalStateException("the run folder " + runDir + " is in use by another stepslm process"
                    + (holder.isEmpty() ? "" : " (pid " + holder + ")") + ": wait for it to end or stop it, or train "
                    + "into another folder with --out");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        return new RunLock(ch, lock);
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
