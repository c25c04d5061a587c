package io.stepslm.experiment;

import com.google.gson.JsonObject;
import io.stepslm.model.Precision;
import io.stepslm.train.Schedule;
import io.stepslm.train.TrainConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * What {@code stepslm experiment steps-vs-plain} trains. Every run of a pair shares data, tokens, schedule and seed;
 * only the architecture differs. Holds no paths (the data and the output folder are the command's).
 *
 * @param pairs sizes compared, each a plain model and its parameter-matched StepsNet
 * @param seeds one run per pair member and seed (parameters, data order): at least 3 for a spread
 * @param vocabSize byte-level BPE vocabulary trained on the training files (the project's own trainer)
 * @param train schedule, batch, context and steps of every run; its seed is replaced by each run's seed
 * @param equalTime also train each StepsNet for the wall-clock time its plain partner took (fewer steps, same
 *                  schedule shape), so that time, not tokens, is the budget
 * @param diagnosisBatches validation batches for the masking probe and the step ablation
 */
public record ExperimentConfig(List<Pair> pairs, List<Long> seeds, int vocabSize, TrainConfig train,
                               boolean equalTime, int diagnosisBatches) {

    public ExperimentConfig {
        if (pairs == null || pairs.isEmpty()) {
            throw new IllegalArgumentException("give at least one --pair NAME:WIDTH:DEPTH:HEADS");
        }
        pairs = List.copyOf(pairs);
        if (new HashSet<>(pairs.stream().map(Pair::name).toList()).size() != pairs.size()) {
            throw new IllegalArgumentException("pair names " + pairs.stream().map(Pair::name).toList()
                    + " repeat: give each --pair its own name");
        }
        if (seeds == null || seeds.isEmpty() || new HashSet<>(seeds).size() != seeds.size()) {
            throw new IllegalArgumentException("--seeds " + seeds + " must list one or more different seeds, "
                    + "e.g. 0,1,2");
        }
        seeds = List.copyOf(seeds);
        if (vocabSize < 258) {
            throw new IllegalArgumentException("--vocab-size " + vocabSize + " must be at least 258 (256 bytes, one "
                    + "merge, end-of-text)");
        }
        if (train == null) {
            throw new IllegalArgumentException("the train config must be set (e.g. ExperimentConfig.cpu().train())");
        }
        if (diagnosisBatches <= 0) {
            throw new IllegalArgumentException("diagnosisBatches " + diagnosisBatches + " must be positive (e.g. 2)");
        }
    }

    /**
     * The default: three pairs that fit about 80 minutes on 2 CPU cores (two 1-thread workers). Vocabulary 8192 keeps
     * the embedding share of the parameters near the paper's 30M pair (64 % in our count of it, 40-57 % here) and
     * every pair within 2 %. 300 steps of 32 x 64 tokens = 0.61 M tokens per run (0.7 epochs of the five novels);
     * nanoGPT's CPU optimiser settings with a higher peak rate for the short schedule.
     */
    public static ExperimentConfig cpu() {
        TrainConfig t = new TrainConfig(0, 32, 1, 64, 300, Schedule.COSINE, 2e-3, 2e-4, 30, 0.1, 0.9, 0.99, 1e-8, 1.0,
                Precision.FP32, 65536, 2000, 5, 50, 4, 50, 1, 0, 10);
        return new ExperimentConfig(List.of(new Pair("small", 128, 4, 4), new Pair("medium", 192, 6, 4),
                new Pair("deep-narrow", 64, 4, 16)), List.of(0L, 1L, 2L), 8192, t, true, 2);
    }

    /**
     * The paper's 30M pair (Table 4: plain 6 blocks at width 384 against StepsNet 12 blocks; 192 x 6, 256 x 3,
     * 384 x 3 here, head size 64) with a GPT-2 sized vocabulary and context 512: a GPU configuration.
     */
    public static ExperimentConfig paper30m() {
        TrainConfig t = new TrainConfig(0, 32, 1, 512, 20000, Schedule.COSINE, 6e-4, 6e-5, 1000, 0.1, 0.9, 0.95, 1e-8,
                1.0, Precision.FP32, 65536, 2000, 5, 1000, 50, 1000, 1, 0, 50);
        return new ExperimentConfig(List.of(new Pair("30m", 384, 6, 6)), List.of(0L, 1L, 2L), 50257, t, true, 8);
    }

    /** Seconds-long settings for tests. */
    public static ExperimentConfig tiny() {
        TrainConfig t = new TrainConfig(0, 4, 1, 16, 12, Schedule.COSINE, 3e-3, 3e-4, 2, 0.1, 0.9, 0.99, 1e-8, 1.0,
                Precision.FP32, 65536, 2000, 5, 6, 2, 6, 1, 0, 3);
        return new ExperimentConfig(List.of(new Pair("a", 32, 4, 2)), List.of(0L, 1L), 1024, t, true, 1);
    }

    /** A preset by the name users type. */
    public static ExperimentConfig preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> cpu();
            case "paper-30m" -> paper30m();
            case "tiny" -> tiny();
            default -> throw new IllegalArgumentException("unknown experiment preset '" + name
                    + "': use cpu, paper-30m or tiny");
        };
    }

    /** The train config of one run: this experiment's, with the run's seed and step count. */
    public TrainConfig trainFor(long seed, int maxSteps) {
        JsonObject o = new JsonObject();
        o.addProperty("seed", seed);
        o.addProperty("maxSteps", maxSteps);
        return train.withOverrides(o, "the experiment");
    }

    public ExperimentConfig withPairs(List<Pair> newPairs) {
        return new ExperimentConfig(newPairs, seeds, vocabSize, train, equalTime, diagnosisBatches);
    }

    public ExperimentConfig withSeeds(List<Long> newSeeds) {
        return new ExperimentConfig(pairs, newSeeds, vocabSize, train, equalTime, diagnosisBatches);
    }

    public ExperimentConfig withVocabSize(int newVocabSize) {
        return new ExperimentConfig(pairs, seeds, newVocabSize, train, equalTime, diagnosisBatches);
    }

    public ExperimentConfig withTrain(TrainConfig newTrain) {
        return new ExperimentConfig(pairs, seeds, vocabSize, newTrain, equalTime, diagnosisBatches);
    }

    public ExperimentConfig withEqualTime(boolean newEqualTime) {
        return new ExperimentConfig(pairs, seeds, vocabSize, train, newEqualTime, diagnosisBatches);
    }
}
