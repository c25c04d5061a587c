package io.stepslm.cli;

import io.stepslm.train.Trainer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * While open, Ctrl-C (SIGINT or SIGTERM, which start the JVM's shutdown) asks the trainer to finish its current
 * step and save a checkpoint; the shutdown waits for {@link #close()} (the training loop has returned), at most
 * two minutes, before the JVM exits.
 */
final class StopOnCtrlC implements AutoCloseable {

    private static final long MAX_WAIT_SECONDS = 120;

    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    private StopOnCtrlC(Trainer trainer) {
        this.hook = new Thread(() -> {
            trainer.requestStop();
            try {
                finished.await(MAX_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stepslm-train-ctrl-c");
    }

    /** Installs the shutdown hook for {@code trainer}; close it when {@link Trainer#run} has returned. */
    static StopOnCtrlC install(Trainer trainer) {
        StopOnCtrlC stop = new StopOnCtrlC(trainer);
        Runtime.getRuntime().addShutdownHook(stop.hook);
        return stop;
    }

    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting because of Ctrl-C: the hook is already running and has just been released
        }
    }
}
