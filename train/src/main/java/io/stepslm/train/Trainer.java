package io.stepslm.train;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The training loop (nanoGPT {@code train.py} structure), readable top to bottom in {@link #run}: evaluate and
 * checkpoint, forward/backward over accumulated micro-batches, unscale and clip, optimizer step, log. Small math
 * lives in {@link LrSchedule}, {@link LossScaler} and {@link AdamW}; global-norm clipping is a model kernel
 * ({@code Kernels.clipGradNorm}). Every step runs in its own sub-{@link NDManager} so native memory stays flat.
 */
public final class Trainer implements AutoCloseable {

    /** Opens a fresh validation stream; each evaluation reads the same first {@code evalBatches} batches of it. */
    @FunctionalInterface
    public interface Validation {
        WindowSource open() throws IOException;
    }

    /** What {@link #run} ends with; tokens/s excludes evaluation, checkpoints and the first 10 steps. */
    public record Result(long steps, double lastTrainLoss, double lastValLoss, double bestValLoss, long bestStep,
                         double trainTokensPerSec, String stopReason, Path lastCheckpoint) {}

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final TrainConfig config;
    private final Path runDir;
    private final PrintStream log;
    private final double bytesPerToken;
    private final NDManager base;
    private final AdamW optimizer;
    private final LossScaler scaler;
    private final LrSchedule schedule;
    private final Checkpoints checkpoints;
    private final List<String> names;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final TrainStep trainStep;
    private TrainState state;
    private double peakFlopsPerDevice; // 0: no MFU figure

    /**
     * @param bytesPerToken UTF-8 bytes per token of the validation text, for bits per byte (0 if unknown)
     */
    public Trainer(LanguageModel model, Tokenizer tokenizer, TrainConfig config, Path runDir, PrintStream log, double bytesPerToken)
            throws IOException {
        if (config.context() > model.config().contextLength()) {
            throw new IllegalArgumentException("the training context " + config.context() + " exceeds the model's context length "
                    + model.config().contextLength() + ": lower --context or use a model with a longer context");
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
        this.optimizer = trainStep.optimizer();
        this.scaler = trainStep.scaler();
        this.schedule = LrSchedule.of(config);
        this.checkpoints = new Checkpoints(runDir);
        this.state = new TrainState(0, 0, scaler.state(), "", Double.POSITIVE_INFINITY, -1, 0, tokenizer.fingerprint(), 0);
    }

    /**
     * Data parallel training: the model stays the primary on its device and a replica is made on each of
     * {@code others}; every micro-batch is split over all of them and their gradients are summed (see
     * {@link DataParallel}). Call before {@link #run}.
     */
    public void replicateOn(List<ai.djl.Device> others) {
        trainStep.replicateOn(others);
    }

    /**
     * Reports model FLOPs utilisation (PaLM's MFU, as nanoGPT's {@code estimate_mfu}: forward+backward FLOPs per
     * token times tokens/s, over the summed peak of every device in use) in the progress line and metrics, against
     * {@code flopsPerSecond} per device (e.g. 312e12 for an A100 in BF16); 0 turns it off.
     */
    public void reportMfu(double flopsPerSecond) {
        if (flopsPerSecond < 0 || !Double.isFinite(flopsPerSecond)) {
            throw new IllegalArgumentException("peak FLOP/s " + flopsPerSecond + " must be positive, or 0 for no MFU figure");
        }
        this.peakFlopsPerDevice = flopsPerSecond;
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
            throw new IllegalArgumentException("the checkpoint " + checkpoint + " was trained with another tokenizer (fingerprint "
                    + saved.tokenizerFingerprint() + ", now " + tokenizer.fingerprint() + "): resume with the checkpoint's own tokenizer");
        }
        if (saved.step() >= config.maxSteps()) {
            throw new IllegalArgumentException("the checkpoint " + checkpoint + " is at step " + saved.step() + ", already at maxSteps "
                    + config.maxSteps() + ": pass --max-steps larger than " + saved.step() + " to train further");
        }
        TrainCheckpoint.restoreOptimizer(checkpoint, optimizer, names, base);
        scaler.restore(saved.lossScaler());
        state = saved;
        Metrics.openAt(runDir, TrainCheckpoint.metricsLines(checkpoint)).close();
    }

    /** The loader position to open the training stream at (the initial one for a fresh run). */
    public String loaderState() {
        return state.loader();
    }

    /** Asks the loop to save a checkpoint and stop after the current step (Ctrl-C); returns at once. */
    public void requestStop() {
        stopRequested.set(true);
    }

    public Result run(WindowSource train, Validation validation) throws IOException {
        CountDownLatch finished = new CountDownLatch(1);
        // Ctrl-C: finish the current step, save a checkpoint, then let the JVM exit (bounded wait)
        Thread hook = new Thread(() -> {
            requestStop();
            try {
                finished.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stepslm-train-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Metrics metrics = Metrics.open(runDir)) {
            return loop(train, validation, metrics);
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting because of Ctrl-C: the hook is already running and waits for us
            }
        }
    }

    private Result loop(WindowSource train, Validation validation, Metrics metrics) throws IOException {
        final long startStep = state.step();
        long step = startStep;
        long tokensSeen = state.tokensSeen();
        double elapsed = state.elapsedSeconds(); // seconds spent in training steps (not evaluation)
        final double startElapsed = elapsed;
        double bestValLoss = state.bestValLoss();
        long bestStep = state.bestStep();
        int evalsWithoutImprovement = state.evalsWithoutImprovement();
        double lastTrainLoss = Double.NaN;
        double lastValLoss = Double.NaN;
        Path lastCheckpoint = null;
        String stopReason = "finished " + config.maxSteps() + " steps";
        double steadySeconds = 0; // training time after the first 10 steps of this session, as torch_reference.py
        long steadySteps = 0;     // measures (TorchScript profiles and optimises its graphs during the first calls)
        double intervalSeconds = 0;
        int intervalSteps = 0;
        double intervalLoss = 0;
        log.println("training " + model.parameterCount() + " parameters on " + model.runtime().device() + ", "
                + config.tokensPerStep() + " tokens per step, steps " + startStep + " -> " + config.maxSteps());

        while (true) {
            boolean stopNow = stopRequested.get();
            boolean last = step >= config.maxSteps() || stopNow;

            // ---- evaluate and checkpoint ------------------------------------------------------------------
            boolean resumedHere = step == startStep && startStep > 0; // the checkpoint we resumed already holds these
            if (!resumedHere && (step % config.evalInterval() == 0 || last)) {
                lastValLoss = evaluate(validation);
                boolean improved = lastValLoss < bestValLoss;
                if (improved) {
                    bestValLoss = lastValLoss;
                    bestStep = step;
                    evalsWithoutImprovement = 0;
                } else {
                    evalsWithoutImprovement++;
                }
                JsonObject e = new JsonObject();
                e.addProperty("type", "eval");
                e.addProperty("step", step);
                e.addProperty("valLoss", lastValLoss);
                e.addProperty("perplexity", Math.exp(lastValLoss));
                if (bytesPerToken > 0) {
                    e.addProperty("bitsPerByte", lastValLoss / Math.log(2) / bytesPerToken);
                }
                metrics.add(e);
                log.printf("step %d: val loss %.4f, perplexity %.2f%s%s%n", step, lastValLoss, Math.exp(lastValLoss),
                        bytesPerToken > 0 ? String.format(", %.4f bits/byte", lastValLoss / Math.log(2) / bytesPerToken) : "",
                        improved ? " (best)" : "");
                TrainingReport.write(runDir, metrics, "stepslm training run: " + runDir.toAbsolutePath().getFileName(), config.toJson());
                state = new TrainState(step, tokensSeen, scaler.state(), train.state().toJson(), bestValLoss, bestStep,
                        evalsWithoutImprovement, tokenizer.fingerprint(), elapsed);
                if (improved && step > 0) {
                    TrainState best = state;
                    checkpoints.saveBest(folder -> TrainCheckpoint.write(folder, model, tokenizer, config, optimizer, names, best, metrics.lines()));
                }
                if (config.earlyStopPatience() > 0 && evalsWithoutImprovement >= config.earlyStopPatience()) {
                    stopReason = "early stop: no better validation loss in " + evalsWithoutImprovement + " evaluations";
                    last = true;
                }
            }
            if (!resumedHere && step > startStep && (step % config.checkpointInterval() == 0 || last)) {
                TrainState now = new TrainState(step, tokensSeen, scaler.state(), train.state().toJson(), bestValLoss, bestStep,
                        evalsWithoutImprovement, tokenizer.fingerprint(), elapsed);
                state = now;
                lastCheckpoint = checkpoints.save(step, folder -> TrainCheckpoint.write(folder, model, tokenizer, config, optimizer, names, now,
                        metrics.lines()), config.keepCheckpoints());
            }
            if (last) {
                if (stopNow) {
                    stopReason = "interrupted at step " + step + (lastCheckpoint != null ? ", checkpoint saved to " + lastCheckpoint : "");
                    // said here, before run() returns: after Ctrl-C the JVM exits as soon as the loop has finished
                    log.println(stopReason + "; continue with --resume " + runDir);
                    log.flush();
                }
                break;
            }

            double lr = schedule.at(step);
            TrainStep.Outcome done = trainStep.run(train, step, lr);
            if (!done.applied()) {
                log.printf("step %d: non-finite loss or gradient, step skipped%s%n", step,
                        scaler.isDynamic() ? String.format(" (loss scale now %.0f)", scaler.scale()) : "");
            }
            double norm = done.gradNorm();
            step++;
            tokensSeen += config.tokensPerStep();
            double seconds = done.seconds();
            elapsed += seconds;
            if (step - startStep > 10) {
                steadySeconds += seconds;
                steadySteps++;
            }
            lastTrainLoss = done.loss();

            // ---- log --------------------------------------------------------------------------------------------
            intervalSeconds += seconds;
            intervalSteps++;
            intervalLoss += lastTrainLoss;
            if (step % config.logInterval() == 0 || step == config.maxSteps()) {
                double tokensPerSec = intervalSteps * config.tokensPerStep() / intervalSeconds;
                double msPerStep = 1000 * intervalSeconds / intervalSteps;
                JsonObject r = new JsonObject();
                r.addProperty("type", "train");
                r.addProperty("step", step);
                r.addProperty("loss", intervalLoss / intervalSteps);
                r.addProperty("lr", lr);
                r.addProperty("gradNorm", norm);
                r.addProperty("tokensPerSec", tokensPerSec);
                r.addProperty("msPerStep", msPerStep);
                r.addProperty("lossScale", scaler.scale());
                double mfu = mfu(tokensPerSec);
                if (mfu > 0) {
                    r.addProperty("mfu", mfu);
                }
                metrics.add(r);
                log.println(ProgressLine.format(step, config.maxSteps(), intervalLoss / intervalSteps, lr, norm, tokensPerSec, msPerStep, mfu));
                intervalSeconds = 0;
                intervalSteps = 0;
                intervalLoss = 0;
            }
        }
        double sessionSeconds = elapsed - startElapsed;
        double tokensPerSec = steadySteps > 0 ? steadySteps * config.tokensPerStep() / steadySeconds
                : sessionSeconds > 0 ? (step - startStep) * config.tokensPerStep() / sessionSeconds : 0;
        return new Result(step, lastTrainLoss, lastValLoss, bestValLoss, bestStep, tokensPerSec, stopReason, lastCheckpoint);
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
