package io.stepslm.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock refuses a second holder with the line the user sees, records its holder's pid and can be taken again
 * once released. (Across processes, with kill -9 releasing it: RunFolderLockTest and DataCommandTest in cli.)
 */
class ProcessLockTest {

    @Test
    void aSecondHolderIsRefusedNamingTheFirstAndTheLockCanBeTakenAgainAfterRelease(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("not/yet/there/.x.lock");
        long pid = ProcessHandle.current().pid();
        try (ProcessLock first = ProcessLock.acquire(file, "the folder x", "wait for it")) {
            assertEquals(pid + "\n", Files.readString(file), "the holder's pid, for the message");
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ProcessLock.acquire(file, "the folder x", "wait for it"));
            assertEquals("the folder x is in use by another stepslm process (pid " + pid + "): wait for it",
                    e.getMessage());
            assertNull(ProcessLock.tryAcquire(file), "tryAcquire: held, so no lock");
            assertEquals(Long.toString(pid), ProcessLock.holder(file));
        }
        Files.writeString(file, "stale text of a dead holder\n");
        try (ProcessLock again = ProcessLock.acquire(file, "the folder x", "wait for it")) {
            assertEquals(pid + "\n", Files.readString(file), "the new holder replaced the old pid");
        }
    }
}
