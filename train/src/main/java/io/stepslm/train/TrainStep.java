package io.stepslm.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.stepslm.datasets.WindowSource;
import io.stepslm.model.LanguageModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One optimizer step of the training loop, callable on its own (the trainer runs it, {@code bench model} times it):
 * forward/backward over {@code accumulation} micro-batches, unscale, clip the global gradient norm, AdamW step
 * (skipped when the loss or gradient is not finite; the loss scaler then lowers its scale), zero the gradients. It
 * owns the optimizer, the loss scaler and the data-parallel replicas; every call runs in its own sub-{@link
 * NDManager}, so native memory stays flat however many steps run.
 */
public final class TrainStep implements AutoCloseable {

    /**
     * What one step did.
     *
     * @param loss mean training loss over the step's micro-batches (NaN or infinite if the step was skipped)
     * @param gradNorm global L2 norm of the unscaled gradient before clipping
     * @param applied false if the optimizer step was skipped (non-finite loss or gradient)
     * @param forwardBackwardSeconds wall time of the forward and backward passes alone
     * @param seconds wall time of the whole step
     */
    public record Outcome(double loss, double gradNorm, boolean applied, double forwardBackwardSeconds,
                          double seconds) {}

    private final LanguageModel model;
    private final TrainConfig config;
    private final NDManager base;
    private final AdamW optimizer;
    private final LossScaler scaler;
    private DataParallel parallel;

    /** A step for {@code model} with the optimizer, loss scaling and clipping of {@code config}. */
    public TrainStep(LanguageModel model, TrainConfig config) {
        this.model = model;
        this.config = config;
        this.base = NDManager.newBaseManager(model.runtime().device());
        this.optimizer = AdamW.of(model.runtime().kernels(), new ArrayList<>(model.parameters().values()), config);
        this.scaler = LossScaler.of(config);
        this.parallel = DataParallel.single(model);
    }

    /**
     * Data parallel training: the model stays the primary on its device and a replica is made on each of
     * {@code others}; every micro-batch is split over all of them and their gradients are summed (see
     * {@link DataParallel}). Call before the first step.
     */
    public void replicateOn(List<Device> others) {
        if (!others.isEmpty()) {
            parallel.close();
            parallel = DataParallel.over(model, others);
        }
    }

    /** Devices the step runs on (1 without replicas). */
    public int devices() {
        return parallel.devices();
    }

    AdamW optimizer() {
        return optimizer;
    }

    LossScaler scaler() {
        return scaler;
    }

    /**
     * Runs optimizer step number {@code step} (0-based) at learning rate {@code lr}, reading {@code accumulation}
     * batches of {@code batchSize} windows from {@code train}.
     */
    public Outcome run(WindowSource train, long step, double lr) throws IOException {
        long t0 = System.nanoTime();
        double lossSum = 0;
        double norm;
        boolean applied;
        long t1;
        try (NDManager sm = base.newSubManager()) {
            // Dropout draws from libtorch's global generator: reseeding from (seed, step) makes the step
            // number the whole RNG state, so a resumed run draws the same masks as an uninterrupted one.
            Engine.getInstance().setRandomSeed((int) (config.seed() * 1_000_003L + step));

            // ---- forward / backward, accumulated over micro-batches -----------------------------------------
            // each micro-batch loss is divided by k (and multiplied by the fp16 loss scale) before backward,
            // so the summed gradient is that of the mean loss over k * B sequences (nanoGPT); over several
            // devices each shard's loss is also weighted by its share of the batch (DataParallel)
            float lossFactor = (float) (scaler.scale() / config.accumulation());
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                for (int micro = 0; micro < config.accumulation(); micro++) {
                    int[][] windows = train.next(config.batchSize());
                    if (windows.length < config.batchSize()) {
                        throw new IllegalArgumentException("the training data ended after " + windows.length
                                + " windows but a batch needs " + config.batchSize()
                                + ": use more data or a smaller --batch-size");
                    }
                    // () FP32 losses, read back as arrays (docs/design.md, DJL trap 1)
                    lossSum += parallel.forwardBackward(sm, collector, windows, config.context(), lossFactor);
                }
            } catch (EngineException e) {
                throw outOfMemoryOr(e, config);
            }
            t1 = System.nanoTime();

            // ---- unscale, clip, check -----------------------------------------------------------------------
            List<NDArray> grads = parallel.gradients(sm); // the primary's, with every replica's added
            if (scaler.scale() != 1) {
                for (NDArray g : grads) {
                    g.muli(1 / scaler.scale()); // gradients take no part in autograd: a Number is safe here
                }
            }
            norm = model.runtime().kernels().clipGradNorm(grads, config.gradClip());
            boolean finite = Double.isFinite(norm) && Double.isFinite(lossSum);

            // ---- optimizer step (skipped on inf/NaN: the loss scaler halves its scale) ----------------------
            applied = scaler.update(finite);
            if (applied) {
                optimizer.step(grads, lr);
                parallel.broadcast(); // replicas take the primary's new weights
            }
            parallel.zeroGradients();
        }
        long t2 = System.nanoTime();
        return new Outcome(lossSum / config.accumulation(), norm, applied, (t1 - t0) / 1e9, (t2 - t0) / 1e9);
    }

    /** An out-of-memory failure as the fix a user can apply; other engine failures unchanged. */
    static RuntimeException outOfMemoryOr(EngineException e, TrainConfig config) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("out of memory") || m.contains("can't allocate") || m.contains("alloc")) {
            return new IllegalArgumentException("out of memory with batch size " + config.batchSize() + " x context "
                    + config.context() + ": lower --batch-size and raise accumulation (same effective batch), "
                    + "or use a smaller model", e);
        }
        return e;
    }

    @Override
    public void close() {
        parallel.close();
        optimizer.close();
        base.close();
    }
}
