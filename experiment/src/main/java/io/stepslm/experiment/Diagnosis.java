package io.stepslm.experiment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.Diagnostics.ShortcutRatio;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The paper's diagnostics of one trained model on validation windows (docs/design.md, "StepsNet as
 * implemented"): the shortcut ratio per block at initialisation and now, the channel-masking probe (first against
 * last k embedding channels zeroed) and the per-step ablation (one step's blocks skipped).
 *
 * @param loss mean validation loss of the model over the batches, nothing masked or skipped
 * @param ratiosAtInit shortcut ratios of the same architecture and seed before training (first batch)
 * @param ratios shortcut ratios of the trained model (first batch)
 * @param masking one row per k
 * @param skippedSteps one row per step (a plain model has one step: skipping it leaves embedding and head only)
 */
public record Diagnosis(double loss, List<ShortcutRatio> ratiosAtInit, List<ShortcutRatio> ratios,
                        List<Masking> masking, List<SkippedStep> skippedSteps) {

    /** Validation loss with the first or the last {@code channels} embedding channels zeroed. */
    public record Masking(int channels, double firstMasked, double lastMasked) {}

    /** Validation loss with the blocks of one step skipped. */
    public record SkippedStep(int step, int width, int depth, double loss) {}

    /** The default masking widths: an eighth, a quarter and a half of the channels. */
    public static int[] defaultMaskChannels(ModelConfig c) {
        return new int[] {c.width() / 8, c.width() / 4, c.width() / 2};
    }

    /**
     * @param windows validation windows of T + 1 ids, in batches (all batches the same size for an exact mean)
     * @param init the same architecture freshly initialised with the run's seed
     */
    public static Diagnosis of(LanguageModel model, LanguageModel init, List<int[][]> windows, int[] maskChannels) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no validation windows to diagnose: give a longer validation text or a "
                    + "smaller --context");
        }
        ModelConfig c = model.config();
        try (NDManager m = NDManager.newBaseManager(model.runtime().device())) {
            List<NDArray[]> batches = new ArrayList<>();
            for (int[][] b : windows) {
                batches.add(inputsAndTargets(m, b));
            }
            List<ShortcutRatio> atInit = Diagnostics.shortcutRatios(init, batches.get(0)[0]);
            List<ShortcutRatio> now = Diagnostics.shortcutRatios(model, batches.get(0)[0]);
            double loss = mean(batches, (x, y) -> Diagnostics.maskedChannelLoss(model, x, y, 0, true));
            List<Masking> masking = new ArrayList<>();
            for (int k : maskChannels) {
                masking.add(new Masking(k, mean(batches, (x, y) -> Diagnostics.maskedChannelLoss(model, x, y, k, true)),
                        mean(batches, (x, y) -> Diagnostics.maskedChannelLoss(model, x, y, k, false))));
            }
            List<SkippedStep> skipped = new ArrayList<>();
            for (int i = 0; i < c.steps().size(); i++) {
                int step = i;
                skipped.add(new SkippedStep(i, c.steps().get(i).width(), c.steps().get(i).depth(),
                        mean(batches, (x, y) -> Diagnostics.skippedStepLoss(model, x, y, step))));
            }
            return new Diagnosis(loss, atInit, now, masking, skipped);
        }
    }

    /** The terminal table. */
    public void print(PrintStream out) {
        out.printf(Locale.ROOT, "validation loss %.4f%n", loss);
        out.println("shortcut ratio std(z_0)/std(z_l) (slice: the channels the block processes; full: all channels)");
        out.printf(Locale.ROOT, "%-14s %6s %10s %10s %10s %10s%n", "block", "depth", "init slice", "init full",
                "slice", "full");
        for (int i = 0; i < ratios.size(); i++) {
            ShortcutRatio r = ratios.get(i);
            ShortcutRatio r0 = ratiosAtInit.get(i);
            String name = r.block() < 0 ? "embedding" : "step " + r.step() + " blk " + r.block();
            out.printf(Locale.ROOT, "%-14s %6.3f %10.4f %10.4f %10.4f %10.4f%n", name, r.depth(), r0.slice(),
                    r0.full(), r.slice(), r.full());
        }
        out.println("channel masking (embedding channels zeroed at evaluation)");
        out.printf(Locale.ROOT, "%-10s %14s %14s%n", "channels", "first k loss", "last k loss");
        for (Masking mk : masking) {
            out.printf(Locale.ROOT, "%-10d %14.4f %14.4f%n", mk.channels(), mk.firstMasked(), mk.lastMasked());
        }
        out.println("step ablation (the step's blocks skipped; its slice still joins)");
        out.printf(Locale.ROOT, "%-6s %6s %6s %10s%n", "step", "width", "blocks", "loss");
        for (SkippedStep s : skippedSteps) {
            out.printf(Locale.ROOT, "%-6d %6d %6d %10.4f%n", s.step(), s.width(), s.depth(), s.loss());
        }
    }

    /**
     * Writes {@code diagnosis.json} (every number) and {@code shortcut-ratio.png} (the ratio against normalised
     * depth, at initialisation and now) into {@code dir}, each through a temporary name.
     */
    public void write(Path dir, String title) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("diagnosis.json"), StepsVsPlain.GSON.toJson(this));
        Charts.Series s = new Charts.Series()
                .add("init (slice)", ExperimentReport.points(ratiosAtInit, true), 3)
                .add("init (full width)", ExperimentReport.points(ratiosAtInit, false), 4)
                .add("trained (slice)", ExperimentReport.points(ratios, true), 0)
                .add("trained (full width)", ExperimentReport.points(ratios, false), 1);
        AtomicFiles.write(dir.resolve("shortcut-ratio.png"), Charts.png(title + ": shortcut ratio",
                "normalised depth", "std(z0) / std(zl)", s));
    }

    /** Windows of T + 1 ids -> inputs (B, T) and targets (B, T), int32. */
    private static NDArray[] inputsAndTargets(NDManager m, int[][] windows) {
        int b = windows.length;
        int t = windows[0].length - 1;
        int[] x = new int[b * t];
        int[] y = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(windows[i], 0, x, i * t, t);
            System.arraycopy(windows[i], 1, y, i * t, t);
        }
        return new NDArray[] {m.create(x, new Shape(b, t)), m.create(y, new Shape(b, t))};
    }

    private interface Probe {
        double loss(NDArray tokens, NDArray targets);
    }

    private static double mean(List<NDArray[]> batches, Probe probe) {
        double sum = 0;
        for (NDArray[] xy : batches) {
            sum += probe.loss(xy[0], xy[1]);
        }
        return sum / batches.size();
    }
}
