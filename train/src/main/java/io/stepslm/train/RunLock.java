package io.stepslm.train;

import io.stepslm.files.ProcessLock;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The lock on a run folder, held for the life of the training process: two processes writing one run folder
 * overwrite each other's checkpoints, best model and metrics. A {@link ProcessLock} on {@value #FILE} in the folder.
 */
public final class RunLock {
    public static final String FILE = ".stepslm.lock";

    private RunLock() {}

    /** Takes the lock on {@code runDir} (created if missing), or refuses at once naming the process that holds it. */
    public static ProcessLock acquire(Path runDir) throws IOException {
        return ProcessLock.acquire(runDir.resolve(FILE), "the run folder " + runDir,
                "wait for it to end or stop it, or train into another folder with --out");
    }
}
