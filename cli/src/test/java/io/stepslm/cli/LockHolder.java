package io.stepslm.cli;

import io.stepslm.files.ProcessLock;
import java.nio.file.Path;

/**
 * A child JVM for lock tests: takes the {@link ProcessLock} on the file named by its argument, prints "locked" and
 * holds it until it is killed (or for five minutes, so that a test that forgets it cannot leave it running).
 */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        try (ProcessLock held = ProcessLock.acquire(Path.of(args[0]), "the test's lock", "kill the holder")) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(300_000);
        }
    }
}
