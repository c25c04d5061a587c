package io.stepslm.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every training hyper-parameter, with nanoGPT's CPU "shakespeare_char" recipe as defaults. Paths, devices and
 * thread counts are not here: a config describes the optimisation, not the machine (it is stored in checkpoints).
 * Precedence when resolving: preset defaults, then a {@code --config file.json}, then command-line flags; keys that
 * are not components of this record are rejected by name.
 */
public record TrainConfig(
        long seed,                   // 1337: parameters, data order and dropout all derive from it (nanoGPT)
        int batchSize,               // 12 sequences per micro-batch
        int accumulation,            // 1 micro-batch per optimizer step (effective batch = batchSize * accumulation)
        int context,                 // 64 tokens per training sequence (at most the model's maximum context)
        int maxSteps,                // 2000 optimizer steps
        String schedule,             // "cosine" (nanoGPT), "linear" or "constant", each after a linear warmup
        double learningRate,         // 1e-3 peak learning rate
        double minLearningRate,      // 1e-4 floor reached at maxSteps (nanoGPT: peak / 10)
        int warmupSteps,             // 100 steps of linear warmup
        double weightDecay,          // 0.1 decoupled decay, matrices and embeddings only (nanoGPT configure_optimizers)
        double beta1,                // 0.9
        double beta2,                // 0.99: nanoGPT's choice for small batches (0.95 for GPT-2 scale)
        double epsilon,              // 1e-8 (PyTorch AdamW default)
        double gradClip,             // 1.0 maximum global L2 norm of the gradients; 0 disables clipping
        String precision,            // "fp32", "fp16" (dynamic loss scaling) or "bf16"; master weights stay FP32
        double initialLossScale,     // 65536 = 2^16 (PyTorch GradScaler init_scale), fp16 only
        int lossScaleGrowthInterval, // 2000 clean steps before the scale doubles (PyTorch GradScaler)
        int maxBadSteps,             // 5 non-finite steps in a row stop training (the last good checkpoint is kept)
        int evalInterval,            // 250 steps between evaluations on the validation split
        int evalBatches,             // 20 batches per evaluation (nanoGPT eval_iters on CPU)
        int checkpointInterval,      // 250 steps between checkpoints (one is always written at the end)
        int keepCheckpoints,         // 2 most recent step checkpoints kept (the best one is kept separately)
        int earlyStopPatience,       // 0 = off; else evaluations without a new best validation loss before stopping
        int logInterval) {           // 10 steps between progress lines and metrics.jsonl records

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    public TrainConfig {
        positive("batchSize", batchSize);
        positive("accumulation", accumulation);
        positive("context", context);
        positive("maxSteps", maxSteps);
        positive("evalInterval", evalInterval);
        positive("evalBatches", evalBatches);
        positive("checkpointInterval", checkpointInterval);
        positive("keepCheckpoints", keepCheckpoints);
        positive("logInterval", logInterval);
        positive("maxBadSteps", maxBadSteps);
        positive("lossScaleGrowthInterval", lossScaleGrowthInterval);
        if (schedule == null || !List.of("cosine", "linear", "constant").contains(schedule)) {
            throw new IllegalArgumentException("schedule must be cosine, linear or constant, got " + schedule);
        }
        if (precision == null || !List.of("fp32", "fp16", "bf16").contains(precision)) {
            throw new IllegalArgumentException("precision must be fp32, fp16 or bf16, got " + precision);
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be > 0, got " + learningRate);
        }
        if (!(minLearningRate >= 0) || minLearningRate > learningRate) {
            throw new IllegalArgumentException("minLearningRate must be in [0, learningRate=" + learningRate + "], got " + minLearningRate);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta1 and beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("epsilon must be > 0, got " + epsilon);
        }
        if (!(gradClip >= 0)) {
            throw new IllegalArgumentException("gradClip must be >= 0 (0 disables clipping), got " + gradClip);
        }
        if (!(initialLossScale >= 1) || !Double.isFinite(initialLossScale)) {
            throw new IllegalArgumentException("initialLossScale must be a finite number >= 1, got " + initialLossScale);
        }
        if (earlyStopPatience < 0) {
            throw new IllegalArgumentException("earlyStopPatience must be >= 0 (0 = off), got " + earlyStopPatience);
        }
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    /** nanoGPT's CPU recipe for character-level tiny shakespeare (README "I only have a macbook"). */
    public static TrainConfig shakespeareChar() {
        return new TrainConfig(1337, 12, 1, 64, 2000, "cosine", 1e-3, 1e-4, 100, 0.1, 0.9, 0.99, 1e-8, 1.0,
                "fp32", 65536, 2000, 5, 250, 20, 250, 2, 0, 10);
    }

    /** A run of a couple of minutes on two CPU cores (the demo). */
    public static TrainConfig demo() {
        return new TrainConfig(1337, 12, 1, 64, 1500, "cosine", 2e-3, 2e-4, 100, 0.1, 0.9, 0.99, 1e-8, 1.0,
                "fp32", 65536, 2000, 5, 250, 20, 500, 2, 0, 50);
    }

    /** Seconds-long runs for tests. */
    public static TrainConfig tiny() {
        return new TrainConfig(1337, 4, 1, 16, 20, "cosine", 3e-3, 3e-4, 2, 0.1, 0.9, 0.99, 1e-8, 1.0,
                "fp32", 65536, 2000, 5, 10, 2, 10, 2, 0, 5);
    }

    /** A preset by the name users type. */
    public static TrainConfig preset(String name) {
        return switch (name) {
            case "shakespeare-char", "default" -> shakespeareChar();
            case "demo" -> demo();
            case "tiny" -> tiny();
            default -> throw new IllegalArgumentException("unknown training preset '" + name + "': use shakespeare-char, demo or tiny");
        };
    }

    /** Sequences per optimizer step. */
    public int effectiveBatch() {
        return batchSize * accumulation;
    }

    /** Training tokens per optimizer step. */
    public long tokensPerStep() {
        return (long) effectiveBatch() * context;
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public JsonObject toJsonObject() {
        return GSON.toJsonTree(this).getAsJsonObject();
    }

    public static TrainConfig fromJson(String json) {
        return preset("default").withOverrides(JsonParser.parseString(json).getAsJsonObject(), "the stored train config");
    }

    /**
     * This config with the given keys replaced; {@code source} names where they came from (a file name, "flags") so
     * that an unknown key or a value of the wrong type is reported against it.
     */
    public TrainConfig withOverrides(JsonObject overrides, String source) {
        JsonObject merged = toJsonObject();
        List<String> known = keys();
        for (Map.Entry<String, JsonElement> e : overrides.entrySet()) {
            if (!known.contains(e.getKey())) {
                throw new IllegalArgumentException("unknown train config key '" + e.getKey() + "' in " + source
                        + suggestion(e.getKey(), known) + "; known keys: " + String.join(", ", known));
            }
            merged.add(e.getKey(), e.getValue());
        }
        try {
            return GSON.fromJson(merged, TrainConfig.class);
        } catch (RuntimeException e) {
            // Gson wraps the compact constructor's IllegalArgumentException; report the validation message itself.
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException iae && !(t instanceof NumberFormatException)) {
                    throw new IllegalArgumentException("bad train config from " + source + ": " + iae.getMessage(), e);
                }
            }
            throw new IllegalArgumentException("bad value in " + source + ": " + e.getMessage() + " (numbers for numeric keys, strings for schedule and precision)", e);
        }
    }

    /** The JSON keys a config file may contain, in declaration order. */
    public static List<String> keys() {
        List<String> keys = new ArrayList<>();
        for (RecordComponent c : TrainConfig.class.getRecordComponents()) {
            keys.add(c.getName());
        }
        return keys;
    }

    private static String suggestion(String key, List<String> known) {
        String k = key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
        for (String candidate : known) {
            if (candidate.toLowerCase(Locale.ROOT).equals(k)) {
                return " (did you mean '" + candidate + "'?)";
            }
        }
        return "";
    }
}
