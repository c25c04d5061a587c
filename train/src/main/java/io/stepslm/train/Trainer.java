package io.stepslm.train;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stepslm.datasets.WindowSource;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.LanguageModel;
import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The training loop (nanoGPT {@code train.py} structure), readable top to bottom in {@link #loop}: evaluate and
 * checkpoint, forward/backward over accumulated micro-batches, unscale and clip, optimizer step, log. One step is
 * {@link TrainStep}; small math lives in {@link LrSchedule}, {@link LossScaler} and {@link AdamW}; global-norm
 * clipping is a model kernel ({@code Kernels.clipGradNorm}). The caller owns the process around the loop: it turns
 * Ctrl-C into {@link #requestStop()} and renders reports from {@link #afterEachEvaluation}.
 */
public final class Trainer implements AutoCloseable {

    /** Opens a fresh validation stream; each evaluation reads the same first {@code evalBatches} batches of it. */
    @FunctionalInterface
    public interface Validation {
        WindowSource open() throws IOException;
    }

    /** Called after each evaluation's metrics line is written (e.g. to render the report from the metrics). */
    @FunctionalInterface
    public interface EvaluationListener {
        void evaluated(Metrics metrics) throws IOException;
    }

    /** What {@link #run} ends with; tokens/s excludes evaluation, checkpoints and the first 10 steps. */
    public record Result(long steps, double lastTrainLoss, double lastValLoss, double bestValLoss, long bestStep,
                         double trainTokensPerSec, String stopReason, Path lastCheckpoint) {}

    private static final int WARMUP_STEPS = 10; // left out of the session's tokens/s, as torch_reference.py does

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final TrainConfig config;
    private final Path runDir;
    private final PrintStream log;
    private final double bytesPerToken;
    private final NDManager base;
    private final TrainStep trainStep;
    private final LrSchedule schedule;
    private final RunFolder runFolder;
    private final List<String> names;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private List<Diagnostics.ShortcutRatio> lastShortcutRatio; // of the latest evaluate(), for its metrics line
    private EvaluationListener afterEvaluation = metrics -> { };
    private double peakFlopsPerDevice; // 0: no MFU figure
    // where the run stands (step, tokens, best validation loss, ...) and what this session has produced
    private TrainState state;
    private long sessionStart;
    private double lastValLoss = Double.NaN;
    private Path lastCheckpoint;

    /**
     * @param bytesPerToken UTF-8 bytes per token of the validation text, for bits per byte (0 if unknown)
     */
    public Trainer(LanguageModel model, Tokenizer tokenizer, TrainConfig config, Path runDir, PrintStream log,
                   double bytesPerToken) throws IOException {
        if (config.context() > model.config().contextLength()) {
            throw new IllegalArgumentException("the training context " + config.context() + " exceeds the model's "
                    + "context length " + model.config().contextLength()
                    + ": lower --context or use a model with a longer context");
        }
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " ids but the model only "
                    + model.config().vocabSize() + ": the checkpoint and the tokenizer do not belong together");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config;
        this.runDir = runDir;
        this.log = log;
        this.bytesPerToken = bytesPerToken;
        Files.createDirectories(runDir);
        this.base = NDManager.newBaseManager(model.runtime().device());
        this.names = new ArrayList<>(model.parameters().keySet());
        this.trainStep = new TrainStep(model, config);
        this.schedule = LrSchedule.of(config);
        this.runFolder = new RunFolder(runDir);
        runFolder.recovered().forEach(log::println);
        this.state = TrainState.start(tokenizer.fingerprint(), trainStep.scaler().state());
    }

    /** Data parallel over the model's device and {@code others} (see {@link TrainStep#replicateOn}). */
    public void replicateOn(List<Device> others) {
        trainStep.replicateOn(others);
    }

    /**
     * Reports model FLOPs utilisation (PaLM's MFU, as nanoGPT's {@code estimate_mfu}: forward+backward FLOPs per
     * token times tokens/s, over the summed peak of every device in use) in the progress line and metrics, against
     * {@code flopsPerSecond} per device (e.g. 312e12 for an A100 in BF16); 0 turns it off.
     */
    public void reportMfu(double flopsPerSecond) {
        if (flopsPerSecond < 0 || !Double.isFinite(flopsPerSecond)) {
            throw new IllegalArgumentException("peak FLOP/s " + flopsPerSecond
                    + " must be positive, or 0 for no MFU figure");
        }
        this.peakFlopsPerDevice = flopsPerSecond;
    }

    /** Calls {@code listener} after every evaluation, with the metrics so far. */
    public void afterEachEvaluation(EvaluationListener listener) {
        this.afterEvaluation = listener;
    }

    /** MFU at {@code tokensPerSec} training tokens per second, 0 when no peak is known. */
    double mfu(double tokensPerSec) {
        if (peakFlopsPerDevice <= 0) {
            return 0;
        }
        double flops = Diagnostics.flopsPerToken(model.config(), config.context()) * tokensPerSec;
        return flops / (peakFlopsPerDevice * trainStep.devices());
    }

    /** Restores the optimizer, loss scale, counters and metrics of a checkpoint (the model was loaded from it). */
    public void restore(Path checkpoint) throws IOException {
        TrainState saved = TrainState.read(checkpoint);
        if (!saved.tokenizerFingerprint().equals(tokenizer.fingerprint())) {
            throw new IllegalArgumentException("the checkpoint " + checkpoint + " was trained with another tokenizer "
                    + "(fingerprint " + saved.tokenizerFingerprint() + ", now " + tokenizer.fingerprint()
                    + "): resume with the checkpoint's own tokenizer");
        }
        if (saved.step() >= config.maxSteps()) {
            throw new IllegalArgumentException("the checkpoint " + checkpoint + " is at step " + saved.step()
                    + ", already at maxSteps " + config.maxSteps() + ": pass --max-steps larger than " + saved.step()
                    + " to train further");
        }
        CheckpointFolder.restoreOptimizer(checkpoint, trainStep.optimizer(), names, base);
        trainStep.scaler().restore(saved.lossScaler());
        state = saved;
        Metrics.openAt(runDir, CheckpointFolder.metricsLines(checkpoint)).close();
    }

    /** The loader position to open the training stream at (the initial one for a fresh run). */
    public String loaderState() {
        return state.loader();
    }

    /** Asks the loop to save a checkpoint and stop after the current step (Ctrl-C); returns at once. */
    public void requestStop() {
        stopRequested.set(true);
    }

    /** Trains from the current state to {@code maxSteps}, an early stop or {@link #requestStop()}. */
    public Result run(WindowSource train, Validation validation) throws IOException {
        try (Metrics metrics = Metrics.open(runDir)) {
            return loop(train, validation, metrics);
        }
    }

    private Result loop(WindowSource train, Validation validation, Metrics metrics) throws IOException {
        sessionStart = state.step();
        ThroughputClock clock = new ThroughputClock(config.tokensPerStep(), WARMUP_STEPS);
        double lastTrainLoss = Double.NaN;
        String stopReason = "finished " + config.maxSteps() + " steps";
        log.println("training " + model.parameterCount() + " parameters on " + model.runtime().device() + ", "
                + config.tokensPerStep() + " tokens per step, steps " + sessionStart + " -> " + config.maxSteps());
        while (true) {
            boolean interrupted = stopRequested.get();
            boolean last = state.step() >= config.maxSteps() || interrupted;

            // ---- evaluate and checkpoint (a resumed run's checkpoint already holds its first step's) ------------
            boolean resumedHere = state.step() == sessionStart && sessionStart > 0;
            if (!resumedHere && evaluateAndCheckpoint(train, validation, metrics, last)) {
                stopReason = "early stop: no better validation loss in " + state.evalsWithoutImprovement()
                        + " evaluations";
                last = true;
            }
            if (last) {
                if (interrupted) {
                    stopReason = "interrupted at step " + state.step()
                            + (lastCheckpoint != null ? ", checkpoint saved to " + lastCheckpoint : "");
                    // said here, before run() returns: after Ctrl-C the JVM exits as soon as the loop has finished
                    log.println(stopReason + "; continue with --resume " + runDir);
                    log.flush();
                }
                break;
            }

            // ---- forward/backward over the accumulated micro-batches, unscale, clip, optimizer step -------------
            double lr = schedule.at(state.step());
            TrainStep.Outcome done = trainStep.run(train, state.step(), lr);
            if (!done.applied()) {
                LossScaler scaler = trainStep.scaler();
                log.printf("step %d: non-finite loss or gradient, step skipped%s%n", state.step(),
                        scaler.isDynamic() ? String.format(" (loss scale now %.0f)", scaler.scale()) : "");
            }
            state = state.advanced(config.tokensPerStep(), done.seconds());
            clock.add(done.seconds(), done.loss());
            lastTrainLoss = done.loss();

            // ---- log ---------------------------------------------------------------------------------------------
            if (state.step() % config.logInterval() == 0 || state.step() == config.maxSteps()) {
                logInterval(metrics, clock.takeInterval(), lr, done.gradNorm());
            }
        }
        return new Result(state.step(), lastTrainLoss, lastValLoss, state.bestValLoss(), state.bestStep(),
                clock.tokensPerSec(), stopReason, lastCheckpoint);
    }

    /**
     * At an evaluation step (and the last one): the validation loss, its metrics line and progress line, the
     * listener, and {@code best/} when the loss improved. At a checkpoint step (and the last one, and an early stop):
     * {@code step-NNNNNN}, pruning older ones. Returns whether early stopping ends the run at this step.
     */
    private boolean evaluateAndCheckpoint(WindowSource train, Validation validation, Metrics metrics, boolean last)
            throws IOException {
        long step = state.step();
        boolean earlyStop = false;
        if (step % config.evalInterval() == 0 || last) {
            lastValLoss = evaluate(validation);
            state = state.evaluated(lastValLoss);
            boolean improved = state.bestIsCurrent();
            Double bitsPerByte = bytesPerToken > 0 ? lastValLoss / Math.log(2) / bytesPerToken : null;
            metrics.add(new Metrics.Eval(step, lastValLoss, Math.exp(lastValLoss), bitsPerByte, lastShortcutRatio));
            log.printf("step %d: val loss %.4f, perplexity %.2f%s%s%n", step, lastValLoss, Math.exp(lastValLoss),
                    bitsPerByte != null ? String.format(", %.4f bits/byte", bitsPerByte) : "",
                    improved ? " (best)" : "");
            afterEvaluation.evaluated(metrics);
            if (improved && step > 0) {
                TrainState best = positioned(train);
                runFolder.saveBest(folder -> writeCheckpoint(folder, best, metrics));
            }
            earlyStop = config.earlyStopPatience() > 0
                    && state.evalsWithoutImprovement() >= config.earlyStopPatience();
        }
        if (step > sessionStart && (step % config.checkpointInterval() == 0 || last || earlyStop)) {
            TrainState now = positioned(train);
            lastCheckpoint = runFolder.save(step, folder -> writeCheckpoint(folder, now, metrics),
                    config.keepCheckpoints());
        }
        return earlyStop;
    }

    /** The state with the loss scaler's and the training loader's positions, as a checkpoint stores it. */
    private TrainState positioned(WindowSource train) {
        return state.at(trainStep.scaler().state(), train.state().toJson());
    }

    private void writeCheckpoint(Path folder, TrainState at, Metrics metrics) throws IOException {
        CheckpointFolder.write(folder, model, tokenizer, config, trainStep.optimizer(), names, at, metrics.lines());
    }

    /** One metrics line and one progress line for the log interval that ends at the current step. */
    private void logInterval(Metrics metrics, ThroughputClock.Interval interval, double lr, double gradNorm)
            throws IOException {
        double mfu = mfu(interval.tokensPerSec());
        metrics.add(new Metrics.Train(state.step(), interval.meanLoss(), lr, gradNorm, interval.tokensPerSec(),
                interval.msPerStep(), trainStep.scaler().scale(), mfu > 0 ? mfu : null));
        log.println(ProgressLine.format(state.step(), config.maxSteps(), interval.meanLoss(), lr, gradNorm,
                interval.tokensPerSec(), interval.msPerStep(), mfu));
    }

    /** Mean loss over the first {@code evalBatches} batches of a fresh validation stream, without gradients. */
    public double evaluate(Validation validation) throws IOException {
        double sum = 0;
        long windows = 0;
        try (WindowSource source = validation.open()) {
            for (int b = 0; b < config.evalBatches() && source.hasNext(); b++) {
                int[][] batch = source.next(config.batchSize());
                try (NDManager sm = base.newSubManager()) {
                    NDArray[] xy = inputsAndTargets(sm, batch, source.windowLength() - 1);
                    NDArray loss = model.loss(xy[0], xy[1], false); // () mean over the batch
                    if (b == 0) {
                        lastShortcutRatio = Diagnostics.shortcutRatios(model, xy[0]); // one more eval forward
                    }
                    sum += loss.getFloat() * batch.length;
                    windows += batch.length;
                } catch (EngineException e) {
                    throw TrainStep.outOfMemoryOr(e, config);
                }
            }
        }
        if (windows == 0) {
            throw new IllegalArgumentException("the validation split holds less than one window of context + 1 = "
                    + (config.context() + 1) + " tokens: use a larger validation fraction or a smaller --context");
        }
        return sum / windows;
    }

    /** Windows of T + 1 ids -> inputs (B, T) and targets (B, T), int32, in {@code sm}. */
    static NDArray[] inputsAndTargets(NDManager sm, int[][] windows, int t) {
        int b = windows.length;
        int[] x = new int[b * t];
        int[] y = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(windows[i], 0, x, i * t, t);
            System.arraycopy(windows[i], 1, y, i * t, t);
        }
        return new NDArray[] {sm.create(x, new Shape(b, t)), sm.create(y, new Shape(b, t))};
    }

    @Override
    public void close() {
        trainStep.close();
        base.close();
    }
}
