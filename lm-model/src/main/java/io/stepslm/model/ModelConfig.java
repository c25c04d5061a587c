package io.stepslm.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The architecture of a decoder-only Transformer with StepsNet progressive channel grouping
 * (docs/design.md, "StepsNet as implemented"). The plain residual model is the 1-step case
 * {@code steps = [(width, depth)]}.
 * Written as readable JSON into every checkpoint; holds no runtime state.
 *
 * @param vocabSize real vocabulary size; the embedding and head are padded to {@link #paddedVocabSize()}
 * @param contextLength longest sequence the model sees (size of the learned position table, of the KV cache)
 * @param width full channel width C (embedding, final norm and head)
 * @param heads attention heads at full width; the head size {@code width / heads} is the same in every step
 * @param mlpRatio MLP hidden size over block width (4 in GPT-2; SwiGLU takes 2/3 of it, as LLaMA)
 * @param mlp GELU (GPT-2, nanoGPT) or SWIGLU (LLaMA)
 * @param norm LAYER_NORM (GPT-2) or RMS_NORM (LLaMA); pre-norm in every block, plus one final norm
 * @param positions LEARNED absolute positions added to the embedding (GPT-2) or ROTARY on q and k (LLaMA)
 * @param dropout residual and embedding dropout during training (0 in nanoGPT's CPU recipe)
 * @param bias biases in the linear layers and LayerNorms (GPT-2: true; nanoGPT shakespeare_char: false)
 * @param tiedEmbeddings the LM head reuses the token embedding matrix (GPT-2, nanoGPT)
 * @param steps (width, depth) per step, widths strictly increasing and ending at {@code width}
 */
public record ModelConfig(
        int vocabSize,
        int contextLength,
        int width,
        int heads,
        double mlpRatio,
        MlpKind mlp,
        NormKind norm,
        PositionKind positions,
        double dropout,
        boolean bias,
        boolean tiedEmbeddings,
        List<Step> steps) {

    /** GELU MLP (x -> fc -> gelu -> proj) or SwiGLU (x -> silu(gate) * up -> proj). */
    public enum MlpKind { GELU, SWIGLU }

    /** Normalisation inside blocks and before the head. */
    public enum NormKind { LAYER_NORM, RMS_NORM }

    /** How the model knows token order. */
    public enum PositionKind { LEARNED, ROTARY }

    /**
     * One StepsNet step: {@code depth} pre-norm blocks at cumulative channel width {@code width} (may be 0 blocks:
     * then its slice is only concatenated).
     */
    public record Step(int width, int depth) {
        public Step {
            if (width <= 0) {
                throw new IllegalArgumentException("step width " + width + " must be positive");
            }
            if (depth < 0) {
                throw new IllegalArgumentException("step depth " + depth + " must be 0 or more");
            }
        }
    }

    /** Vocabulary padding multiple: a head of 65 rows runs slower than one of 128 (nanoGPT pads 50257 to 50304). */
    public static final int VOCAB_MULTIPLE = 64;

    /** Epsilon of every norm (PyTorch's LayerNorm default). */
    public static final float NORM_EPS = 1e-5f;

    /** Base of the rotary frequencies (RoFormer, LLaMA). */
    public static final double ROPE_THETA = 10000.0;

    public ModelConfig {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " must be positive: pass the tokenizer's "
                    + "vocabulary size");
        }
        if (contextLength <= 0) {
            throw new IllegalArgumentException("contextLength " + contextLength + " must be positive (e.g. 64 or 256)");
        }
        if (width <= 0 || heads <= 0 || width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " must be a positive multiple of heads " + heads
                    + ": change width or heads so that heads divides width");
        }
        if (!(mlpRatio > 0) || Double.isInfinite(mlpRatio)) {
            throw new IllegalArgumentException("mlpRatio " + mlpRatio + " must be positive (GPT-2 uses 4)");
        }
        if (mlp == null || norm == null || positions == null) {
            throw new IllegalArgumentException("mlp, norm and positions must be set (e.g. GELU, LAYER_NORM, LEARNED)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout " + dropout + " must be in [0, 1)");
        }
        if (steps == null || steps.isEmpty()) {
            throw new IllegalArgumentException("steps must list at least one (width, depth) pair; a plain model is "
                    + "[(" + width + ", depth)]");
        }
        steps = List.copyOf(steps);
        int headSize = width / heads;
        if (positions == PositionKind.ROTARY && headSize % 2 != 0) {
            throw new IllegalArgumentException("rotary positions need an even head size, got " + headSize
                    + " (width " + width + " / heads " + heads + "): change width or heads");
        }
        int previous = 0;
        int blocks = 0;
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (s == null) {
                throw new IllegalArgumentException("step " + i + " is missing: every step needs a width and a depth");
            }
            if (s.width() % headSize != 0) {
                throw new IllegalArgumentException("step " + i + " width " + s.width() + " is not a multiple of the "
                        + "head size " + headSize + ": round it to a multiple of " + headSize);
            }
            if (s.width() <= previous) {
                throw new IllegalArgumentException("step " + i + " width " + s.width() + " must be larger than the "
                        + "previous step's " + previous + ": step widths grow and each step adds channels");
            }
            previous = s.width();
            blocks += s.depth();
        }
        if (previous != width) {
            throw new IllegalArgumentException("the last step's width " + previous + " must equal the model width "
                    + width + ": the final norm and head work at full width");
        }
        if (blocks == 0) {
            throw new IllegalArgumentException("the steps hold no blocks: give at least one step a depth of 1 or more");
        }
    }

    // ---- presets --------------------------------------------------------------------------------------------

    /** A plain (1-step) GPT-2 style model: GELU, LayerNorm, learned positions, tied embeddings. */
    public static ModelConfig gpt(int vocabSize, int contextLength, int layers, int heads, int width, double dropout,
                                  boolean bias) {
        return new ModelConfig(vocabSize, contextLength, width, heads, 4.0, MlpKind.GELU, NormKind.LAYER_NORM,
                PositionKind.LEARNED, dropout, bias, true, List.of(new Step(width, layers)));
    }

    /** nanoGPT's CPU shakespeare_char recipe: 4 layers, 4 heads, width 128, context 64, dropout 0, no bias. */
    public static ModelConfig charTiny(int vocabSize) {
        return gpt(vocabSize, 64, 4, 4, 128, 0.0, false);
    }

    /** nanoGPT's shakespeare_char config: 6 layers, 6 heads, width 384, context 256, dropout 0.2, no bias. */
    public static ModelConfig charSmall(int vocabSize) {
        return gpt(vocabSize, 256, 6, 6, 384, 0.2, false);
    }

    /** GPT-2 small (124M with the 50257-token vocabulary): 12 layers, 12 heads, width 768, context 1024, bias. */
    public static ModelConfig gpt2Small(int vocabSize) {
        return gpt(vocabSize, 1024, 12, 12, 768, 0.0, true);
    }

    /** Names accepted by {@link #preset(String, int)}. */
    public static final List<String> PRESETS = List.of("char-tiny", "char-tiny-steps", "char-small",
            "char-small-steps", "gpt2-small", "gpt2-small-steps");

    /** A named preset; a {@code -steps} suffix applies {@link #withStepsRecipe()}. */
    public static ModelConfig preset(String name, int vocabSize) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        boolean steps = n.endsWith("-steps");
        String base = steps ? n.substring(0, n.length() - "-steps".length()) : n;
        ModelConfig c = switch (base) {
            case "char-tiny" -> charTiny(vocabSize);
            case "char-small" -> charSmall(vocabSize);
            case "gpt2-small" -> gpt2Small(vocabSize);
            default -> throw new IllegalArgumentException("unknown model preset '" + name + "': use one of "
                    + String.join(", ", PRESETS));
        };
        return steps ? c.withStepsRecipe() : c;
    }

    // ---- derived values -------------------------------------------------------------------------------------

    public int headSize() {
        return width / heads;
    }

    /** Vocabulary rounded up to {@link #VOCAB_MULTIPLE}; rows past {@link #vocabSize} are never used. */
    public int paddedVocabSize() {
        return (vocabSize + VOCAB_MULTIPLE - 1) / VOCAB_MULTIPLE * VOCAB_MULTIPLE;
    }

    /** Heads of step i: its width over the common head size. */
    public int heads(int step) {
        return steps.get(step).width() / headSize();
    }

    /** Total number of blocks over all steps (GPT-2's residual init scales by it). */
    public int blocks() {
        return steps.stream().mapToInt(Step::depth).sum();
    }

    /** MLP hidden size of a block of the given width: ratio x width (GELU), 2/3 of it rounded up to 8 (SwiGLU). */
    public int mlpHidden(int blockWidth) {
        double h = mlpRatio * blockWidth;
        if (mlp == MlpKind.SWIGLU) {
            // LLaMA keeps the parameter count of a 4x GELU MLP with three matrices: 2/3 of the hidden size
            return (int) Math.ceil(h * 2 / 3 / 8) * 8;
        }
        return (int) Math.round(h);
    }

    public boolean isPlain() {
        return steps.size() == 1;
    }

    // ---- derived configs ------------------------------------------------------------------------------------

    /**
     * The paper's parameter-matched 3-step recipe (arXiv 2511.14329, Tables 12-14) from a plain model of D blocks at
     * width C: {@code (C/2 x D, C/sqrt2 x D/2, C x D/2)}, every width rounded to a multiple of the head size (ours,
     * so heads divide each step; as ../shared/anchors/torch_reference.py).
     */
    public ModelConfig withStepsRecipe() {
        if (!isPlain()) {
            throw new IllegalArgumentException("the steps recipe starts from a plain (1-step) model, this one has "
                    + steps.size() + " steps: apply it to the plain preset");
        }
        int d = steps.get(0).depth();
        int hs = headSize();
        int w1 = (int) Math.round(width / 2.0 / hs) * hs;
        int w2 = (int) Math.round(width / Math.sqrt(2) / hs) * hs;
        if (w1 <= 0 || w2 <= w1 || width <= w2) {
            throw new IllegalArgumentException("width " + width + " with head size " + hs + " is too narrow for the "
                    + "3-step recipe (widths would be " + w1 + ", " + w2 + ", " + width + "): use more heads or a "
                    + "larger width");
        }
        return withSteps(List.of(new Step(w1, d), new Step(w2, d / 2), new Step(width, d / 2)));
    }

    public ModelConfig withSteps(List<Step> newSteps) {
        return new ModelConfig(vocabSize, contextLength, width, heads, mlpRatio, mlp, norm, positions, dropout, bias,
                tiedEmbeddings, newSteps);
    }

    public ModelConfig withVocabSize(int newVocabSize) {
        return new ModelConfig(newVocabSize, contextLength, width, heads, mlpRatio, mlp, norm, positions, dropout,
                bias, tiedEmbeddings, steps);
    }

    public ModelConfig withContextLength(int newContextLength) {
        return new ModelConfig(vocabSize, newContextLength, width, heads, mlpRatio, mlp, norm, positions, dropout,
                bias, tiedEmbeddings, steps);
    }

    public ModelConfig withDropout(double newDropout) {
        return new ModelConfig(vocabSize, contextLength, width, heads, mlpRatio, mlp, norm, positions, newDropout,
                bias, tiedEmbeddings, steps);
    }

    // ---- JSON -----------------------------------------------------------------------------------------------

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    public String toJson() {
        return GSON.toJson(this);
    }

    /**
     * Parses {@link #toJson()} output. Unknown or missing keys are refused (a typo must not silently fall back
     * to a default); {@code source} names the input in messages.
     */
    public static ModelConfig fromJson(String json, String source) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException(source + ": expected a JSON object with the model config");
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(source + ": not valid JSON (" + e.getMessage() + "): restore the "
                    + "file from a good checkpoint", e);
        }
        Set<String> known = new TreeSet<>();
        for (RecordComponent rc : ModelConfig.class.getRecordComponents()) {
            known.add(rc.getName());
        }
        List<String> unknown = new ArrayList<>();
        for (String k : o.keySet()) {
            if (!known.contains(k)) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(source + ": unknown model config keys " + unknown + ", known keys are "
                    + known);
        }
        Set<String> missing = new TreeSet<>(known);
        missing.removeAll(o.keySet());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(source + ": missing model config keys " + missing);
        }
        checkEnum(o, "mlp", MlpKind.values(), source);
        checkEnum(o, "norm", NormKind.values(), source);
        checkEnum(o, "positions", PositionKind.values(), source);
        ConfigJson.requireWholeNumbers(o, ModelConfig.class, source);
        try {
            return GSON.fromJson(o, ModelConfig.class);
        } catch (RuntimeException e) {
            // Gson wraps the compact constructor's IllegalArgumentException: surface its message
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException) {
                    throw new IllegalArgumentException(source + ": " + t.getMessage(), e);
                }
            }
            throw new IllegalArgumentException(source + ": bad model config value (" + e.getMessage() + ")", e);
        }
    }

    /**
     * This config with the keys of {@code overridesJson} (a JSON object with any subset of the keys of
     * {@link #toJson()}, e.g. {@code {"positions": "ROTARY", "norm": "RMS_NORM"}}) replaced, validated as a whole;
     * unknown keys and bad values are refused with {@code source} in the message.
     */
    public ModelConfig withOverrides(String overridesJson, String source) {
        JsonObject merged = JsonParser.parseString(toJson()).getAsJsonObject();
        JsonElement overrides;
        try {
            overrides = JsonParser.parseString(overridesJson);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(source + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        if (!overrides.isJsonObject()) {
            throw new IllegalArgumentException(source + ": expected a JSON object of model config keys, e.g. "
                    + "{\"positions\": \"ROTARY\"}");
        }
        for (Map.Entry<String, JsonElement> e : overrides.getAsJsonObject().entrySet()) {
            merged.add(e.getKey(), e.getValue());
        }
        return fromJson(merged.toString(), source);
    }

    private static void checkEnum(JsonObject o, String key, Enum<?>[] values, String source) {
        JsonElement v = o.get(key);
        for (Enum<?> e : values) {
            if (v != null && v.isJsonPrimitive() && e.name().equals(v.getAsString())) {
                return;
            }
        }
        List<String> names = new ArrayList<>();
        for (Enum<?> e : values) {
            names.add(e.name());
        }
        throw new IllegalArgumentException(source + ": " + key + " is " + v + ", use one of " + names);
    }
}
