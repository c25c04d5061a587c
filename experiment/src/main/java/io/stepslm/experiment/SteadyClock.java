package io.stepslm.experiment;

import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.WindowSource;
import java.io.IOException;
import java.lang.management.ManagementFactory;

/**
 * A training stream that notes the process CPU time when the trainer asks for the batch of step 11 and at the end:
 * the trainer draws one batch per micro-batch, so this measures the steps after warm-up (JIT compilation, the
 * TorchScript kernels' profiling runs) without a hook in the training loop. Evaluations inside that span are
 * counted too, at the same interval for every model.
 */
final class SteadyClock implements WindowSource {

    private static final int WARMUP_STEPS = 10;

    private final WindowSource source;
    private final int accumulation;
    private long batches;
    private long cpuAtWarm = -1;
    private long batchesAtWarm;

    /** @param accumulation micro-batches per step (batches the trainer draws per step) */
    SteadyClock(WindowSource source, int accumulation) {
        this.source = source;
        this.accumulation = accumulation;
    }

    @Override
    public int windowLength() {
        return source.windowLength();
    }

    @Override
    public boolean hasNext() {
        return source.hasNext();
    }

    @Override
    public int[] next() {
        return source.next();
    }

    @Override
    public int[][] next(int batchSize) {
        if (batches == (long) WARMUP_STEPS * accumulation) {
            cpuAtWarm = cpuNanos();
            batchesAtWarm = batches;
        }
        batches++;
        return source.next(batchSize);
    }

    @Override
    public LoaderState state() {
        return source.state();
    }

    /** CPU seconds per step between step 11 and now, NaN when the run was too short to measure. */
    double cpuSecondsPerStep() {
        long steps = (batches - batchesAtWarm) / accumulation;
        if (cpuAtWarm < 0 || steps <= 0) {
            return Double.NaN;
        }
        return (cpuNanos() - cpuAtWarm) / 1e9 / steps;
    }

    private static long cpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
