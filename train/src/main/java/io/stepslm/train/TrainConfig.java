package io.stepslm.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import io.stepslm.model.ConfigJson;
import io.stepslm.model.Precision;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Every training hyper-parameter, with nanoGPT's CPU "shakespeare_char" recipe as defaults. Paths, devices and
 * thread counts are not here: a config describes the optimisation, not the machine (it is stored in checkpoints).
 * Precedence when resolving: preset defaults, then a {@code --config file.json}, then command-line flags; keys that
 * are not components of this record are rejected by name. The other presets are named overrides of this base, in
 * the same JSON a {@code --config} file holds.
 */
public record TrainConfig(
        long seed,                   // 1337: parameters, data order and dropout all derive from it (nanoGPT)
        int batchSize,               // 12 sequences per micro-batch
        int accumulation,            // 1 micro-batch per optimizer step (effective batch = batchSize * accumulation)
        int context,                 // 64 tokens per training sequence (at most the model's maximum context)
        int maxSteps,                // 2000 optimizer steps
        Schedule schedule,           // cosine (nanoGPT), linear or constant, each after a linear warmup
        double learningRate,         // 1e-3 peak learning rate
        double minLearningRate,      // 1e-4 floor reached at maxSteps (nanoGPT: peak / 10)
        int warmupSteps,             // 100 steps of linear warmup
        double weightDecay,          // 0.1 decoupled decay, matrices and embeddings only (nanoGPT configure_optimizers)
        double beta1,                // 0.9
        double beta2,                // 0.99: nanoGPT's choice for small batches (0.95 for GPT-2 scale)
        double epsilon,              // 1e-8 (PyTorch AdamW default)
        double gradClip,             // 1.0 maximum global L2 norm of the gradients; 0 disables clipping
        Precision precision,         // fp32, fp16 (dynamic loss scaling) or bf16; master weights stay FP32
        double initialLossScale,     // 65536 = 2^16 (PyTorch GradScaler init_scale), fp16 only
        int lossScaleGrowthInterval, // 2000 clean steps before the scale doubles (PyTorch GradScaler)
        int maxBadSteps,             // 5 non-finite steps in a row stop training (the last good checkpoint is kept)
        int evalInterval,            // 250 steps between evaluations on the validation split
        int evalBatches,             // 20 batches per evaluation (nanoGPT eval_iters on CPU)
        int checkpointInterval,      // 250 steps between checkpoints (one is always written at the end)
        int keepCheckpoints,         // 2 most recent step checkpoints kept (the best one is kept separately)
        int earlyStopPatience,       // 0 = off; else evaluations without a new best validation loss before stopping
        int logInterval) {           // 10 steps between progress lines and metrics.jsonl records

    // enums are written as their lower-case ids ("cosine", "fp32"), as the CLI spells them and checkpoints hold them
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting()
            .registerTypeAdapter(Schedule.class, byId(Schedule::id, Schedule::parse))
            .registerTypeAdapter(Precision.class, byId(Precision::id, Precision::parse))
            .create();

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
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must be cosine, linear or constant, got null");
        }
        if (precision == null) {
            throw new IllegalArgumentException("precision must be fp32, fp16 or bf16, got null");
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be > 0, got " + learningRate);
        }
        if (!(minLearningRate >= 0) || minLearningRate > learningRate) {
            throw new IllegalArgumentException("minLearningRate must be in [0, learningRate=" + learningRate + "], got "
                    + minLearningRate);
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
            throw new IllegalArgumentException("initialLossScale must be a finite number >= 1, got "
                    + initialLossScale);
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

    /** nanoGPT's CPU recipe for character-level tiny shakespeare (README "I only have a macbook"): the base. */
    public static TrainConfig shakespeareChar() {
        return new TrainConfig(1337, 12, 1, 64, 2000, Schedule.COSINE, 1e-3, 1e-4, 100, 0.1, 0.9, 0.99, 1e-8, 1.0,
                Precision.FP32, 65536, 2000, 5, 250, 20, 250, 2, 0, 10);
    }

    /** A run of a couple of minutes on two CPU cores (the demo): shorter, hotter, fewer checkpoints and lines. */
    public static TrainConfig demo() {
        return shakespeareChar().withOverrides("""
                {"maxSteps": 1500, "learningRate": 2e-3, "minLearningRate": 2e-4, "checkpointInterval": 500,
                 "logInterval": 50}""", "the demo preset");
    }

    /** Seconds-long runs for tests: small batches and context, 20 steps, evaluations and checkpoints every 10. */
    public static TrainConfig tiny() {
        return shakespeareChar().withOverrides("""
                {"batchSize": 4, "context": 16, "maxSteps": 20, "learningRate": 3e-3, "minLearningRate": 3e-4,
                 "warmupSteps": 2, "evalInterval": 10, "evalBatches": 2, "checkpointInterval": 10, "logInterval": 5}""",
                "the tiny preset");
    }

    /** A preset by the name users type. */
    public static TrainConfig preset(String name) {
        return switch (name) {
            case "shakespeare-char", "default" -> shakespeareChar();
            case "demo" -> demo();
            case "tiny" -> tiny();
            default -> throw new IllegalArgumentException("unknown training preset '" + name
                    + "': use shakespeare-char, demo or tiny");
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
        return preset("default").withOverrides(json, "the stored train config");
    }

    /** {@link #withOverrides(JsonObject, String)} with the keys given as JSON text. */
    public TrainConfig withOverrides(String json, String source) {
        return withOverrides(JsonParser.parseString(json).getAsJsonObject(), source);
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
        ConfigJson.requireWholeNumbers(merged, TrainConfig.class, "bad train config from " + source);
        try {
            return GSON.fromJson(merged, TrainConfig.class);
        } catch (RuntimeException e) {
            // Gson wraps the compact constructor's IllegalArgumentException; report the validation message itself.
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException iae && !(t instanceof NumberFormatException)) {
                    throw new IllegalArgumentException("bad train config from " + source + ": " + iae.getMessage(), e);
                }
            }
            throw new IllegalArgumentException("bad value in " + source + ": " + e.getMessage()
                    + " (numbers for numeric keys, strings for schedule and precision)", e);
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

    /** Reads and writes an enum as its id; {@code parse} names the bad value and the valid ones. */
    private static <E extends Enum<E>> TypeAdapter<E> byId(Function<E, String> id, Function<String, E> parse) {
        return new TypeAdapter<E>() {
            @Override
            public void write(JsonWriter out, E value) throws IOException {
                out.value(id.apply(value));
            }

            @Override
            public E read(JsonReader in) throws IOException {
                return parse.apply(in.nextString());
            }
        }.nullSafe();
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
