package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.Dropout;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A decoder-only Transformer with StepsNet progressive channel grouping: token embedding at full width (+ learned
 * positions) -> {@link Steps} (split into slices, concatenate one per step, run its pre-norm {@link Block}s) -> final
 * norm -> LM head. One code path serves plain (1-step) and StepsNet models. Owns its {@link NDManager} and its FP32
 * master parameters, created without DJL Blocks; activations of a forward pass belong to the manager of the
 * {@code tokens} array, so callers scope each step with a sub-manager.
 *
 * <p>Parameter names (stable; the checkpoint format uses them, in this order; shapes (out, in) as PyTorch):
 * <pre>
 * wte.weight                          (Vp, C)        token embedding, Vp = paddedVocabSize(); the head when tied
 * wpe.weight                          (Tmax, C)      learned positions only
 * steps.i.blocks.j.ln1.weight         (C_i)          and .ln1.bias with LayerNorm and bias
 * steps.i.blocks.j.attn.qkv.weight    (3 C_i, C_i)   rows: q, k, v; heads in order inside each; .qkv.bias with bias
 * steps.i.blocks.j.attn.proj.weight   (C_i, C_i)     .proj.bias with bias
 * steps.i.blocks.j.ln2.weight         (C_i)          and .ln2.bias with LayerNorm and bias
 * steps.i.blocks.j.mlp.fc.weight      (h, C_i)       SwiGLU: (2h, C_i), gate rows then up rows; .fc.bias with bias
 * steps.i.blocks.j.mlp.proj.weight    (C_i, h)       .proj.bias with bias
 * ln_f.weight                         (C)            and ln_f.bias with LayerNorm and bias
 * lm_head.weight                      (Vp, C)        untied embeddings only
 * </pre>
 * Padded vocabulary rows are never sampled nor scored: {@link #logits} slices them off, so logits are (B, T, V).
 *
 * <p>Dimension legend: B batch, T positions, C full width, V vocabulary, Vp padded vocabulary.
 */
public final class LanguageModel implements AutoCloseable {

    /** Supplies the initial values of one parameter (row-major FP32). */
    interface Values {
        float[] of(String name, Shape shape);
    }

    private final ModelConfig config;
    private final ModelRuntime runtime;
    private final NDManager manager;
    private final Map<String, NDArray> parameters;
    private final NDArray wte; // (Vp, C)
    private final NDArray wpe; // (Tmax, C), learned positions only
    private final NDArray lmHead; // (Vp, C), wte when tied
    private final Norm lnF;
    private final Steps steps;
    private final Rotary rotary;

    private LanguageModel(ModelConfig config, ModelRuntime runtime, Values values) {
        this.config = config;
        this.runtime = runtime;
        this.manager = NDManager.newBaseManager(runtime.device());
        try {
            Map<String, NDArray> params = new LinkedHashMap<>();
            for (Map.Entry<String, Shape> e : parameterShapes(config).entrySet()) {
                NDArray p = manager.create(values.of(e.getKey(), e.getValue()), e.getValue());
                p.setName(e.getKey());
                p.setRequiresGradient(true);
                params.put(e.getKey(), p);
            }
            this.parameters = Collections.unmodifiableMap(params);
            this.wte = params.get("wte.weight");
            this.wpe = params.get("wpe.weight");
            this.lmHead = config.tiedEmbeddings() ? wte : params.get("lm_head.weight");
            this.rotary = Rotary.of(manager, config);
            this.lnF = new Norm(params, "ln_f", config, runtime.kernels());
            this.steps = new Steps(params, config, runtime, rotary);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** A freshly initialised model (see {@link Init} for the distributions). */
    public static LanguageModel create(ModelConfig config, ModelRuntime runtime) {
        return new LanguageModel(config, runtime, (name, shape) -> Init.values(name, shape, config, runtime.seed()));
    }

    /** A model with the given parameter values (the checkpoint loader). */
    static LanguageModel withValues(ModelConfig config, ModelRuntime runtime, Values values) {
        return new LanguageModel(config, runtime, values);
    }

    /** Every parameter name of a config, in checkpoint order, with its shape. */
    public static Map<String, Shape> parameterShapes(ModelConfig config) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        int c = config.width();
        boolean bias = config.bias();
        boolean normBias = Norm.hasBias(config);
        shapes.put("wte.weight", new Shape(config.paddedVocabSize(), c));
        if (config.positions() == ModelConfig.PositionKind.LEARNED) {
            shapes.put("wpe.weight", new Shape(config.contextLength(), c));
        }
        for (int i = 0; i < config.steps().size(); i++) {
            int w = config.steps().get(i).width();
            int h = config.mlpHidden(w);
            int fc = config.mlp() == ModelConfig.MlpKind.SWIGLU ? 2 * h : h;
            for (int j = 0; j < config.steps().get(i).depth(); j++) {
                String p = Steps.prefix(i, j);
                shapes.put(p + ".ln1.weight", new Shape(w));
                if (normBias) {
                    shapes.put(p + ".ln1.bias", new Shape(w));
                }
                shapes.put(p + ".attn.qkv.weight", new Shape(3L * w, w));
                if (bias) {
                    shapes.put(p + ".attn.qkv.bias", new Shape(3L * w));
                }
                shapes.put(p + ".attn.proj.weight", new Shape(w, w));
                if (bias) {
                    shapes.put(p + ".attn.proj.bias", new Shape(w));
                }
                shapes.put(p + ".ln2.weight", new Shape(w));
                if (normBias) {
                    shapes.put(p + ".ln2.bias", new Shape(w));
                }
                shapes.put(p + ".mlp.fc.weight", new Shape(fc, w));
                if (bias) {
                    shapes.put(p + ".mlp.fc.bias", new Shape(fc));
                }
                shapes.put(p + ".mlp.proj.weight", new Shape(w, h));
                if (bias) {
                    shapes.put(p + ".mlp.proj.bias", new Shape(w));
                }
            }
        }
        shapes.put("ln_f.weight", new Shape(c));
        if (normBias) {
            shapes.put("ln_f.bias", new Shape(c));
        }
        if (!config.tiedEmbeddings()) {
            shapes.put("lm_head.weight", new Shape(config.paddedVocabSize(), c));
        }
        return shapes;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelRuntime runtime() {
        return runtime;
    }

    /** Name -> FP32 master parameter (requires gradients), in the documented stable order. Do not close them. */
    public Map<String, NDArray> parameters() {
        return parameters;
    }

    /** Number of parameter elements, padding rows included ({@link Diagnostics#parameterCount}, the one count). */
    public long parameterCount() {
        return Diagnostics.parameterCount(config, true);
    }

    /**
     * Gradients accumulated by backward passes since the last {@link #zeroGradients()}, each attached to
     * {@code into} (DJL's getGradient returns a new handle on the parameter's manager each call: docs/design.md
     * DJL trap 7).
     */
    public Map<String, NDArray> gradients(NDManager into) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray g = e.getValue().getGradient();
            g.attach(into);
            grads.put(e.getKey(), g);
        }
        return grads;
    }

    /**
     * Overwrites this model's weights with those of {@code source} (same config, any device), device to device and
     * outside autograd: data-parallel replicas follow the primary model this way after each optimizer step.
     */
    public void copyWeightsFrom(LanguageModel source) {
        if (!source.config.equals(config)) {
            throw new IllegalArgumentException("cannot copy weights between models of different configs: "
                    + source.config
                    + " vs " + config);
        }
        boolean gradMode = JniUtils.isGradMode();
        // an in-place write to a leaf that requires gradients is only legal without autograd
        JniUtils.setGradMode(false);
        try (NDManager scope = manager.newSubManager()) {
            for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
                NDArray copy = source.parameters.get(e.getKey()).toDevice(runtime.device(), true);
                copy.attach(scope); // otherwise it belongs to the source's manager (docs/design.md DJL trap 8)
                e.getValue().set(new NDIndex("..."), copy);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Sets every accumulated gradient to zero (GradientCollector never does: gradients accumulate by design). */
    public void zeroGradients() {
        for (NDArray p : parameters.values()) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /**
     * Logits over the real vocabulary (padding columns sliced off) for tokens (B, T) int32 or int64, T at most the
     * context length -> (B, T, V) FP32, on the manager of {@code tokens}.
     */
    public NDArray logits(NDArray tokens, boolean training) {
        checkTokens(tokens);
        NDArray x = embed(tokens, 0, training); // (B, T, C)
        return head(steps.forward(x, training, Steps.Probe.NONE)); // (B, T, V)
    }

    /** Mean cross-entropy over every position (B, T) of the real vocabulary: an FP32 scalar. */
    public NDArray loss(NDArray tokens, NDArray targets, boolean training) {
        if (!targets.getShape().equals(tokens.getShape())) {
            throw new IllegalArgumentException("targets " + targets.getShape() + " must have the shape of tokens "
                    + tokens.getShape() + ": targets are the tokens shifted left by one");
        }
        NDArray logits = logits(tokens, training); // (B, T, V)
        return crossEntropy(logits, targets);
    }

    /** Mean of -log softmax(logits)[target] in FP32: logits (B, T, V), targets (B, T) -> scalar. */
    static NDArray crossEntropy(NDArray logits, NDArray targets) {
        // ops on targets land on targets' manager, which may outlive the step: move them to the logits' scope
        NDManager scope = logits.getManager();
        NDArray idx = targets;
        if (targets.getDataType() != DataType.INT64) {
            idx = targets.toType(DataType.INT64, false); // (B, T)
            idx.attach(scope);
        }
        idx = idx.expandDims(-1); // (B, T, 1)
        idx.attach(scope);
        NDArray logp = logits.logSoftmax(-1); // (B, T, V)
        return logp.gather(idx, -1).mean().neg(); // ()
    }

    /** A KV cache for {@link #step} with this model's per-step widths, owned by the caller (close it). */
    public KvCache newCache(int batch) {
        return new KvCache(manager, config, batch);
    }

    /**
     * A {@link Decoder} of {@code rows} independent sequences for generation, owned by the caller (close it before
     * the model): one fused native call per step with the fused kernels in FP32, the reference path otherwise.
     */
    public Decoder newDecoder(int rows) {
        return new Decoder(this, rows);
    }

    NDManager manager() {
        return manager;
    }

    Rotary rotary() {
        return rotary;
    }

    NDArray lmHead() {
        return lmHead;
    }

    /**
     * Incremental decoding (inference only, no gradients): logits (B, T, V) of the new tokens (B, T) at positions
     * cache.position() .. + T - 1, whose keys and values are appended to the cache. Prefill with the prompt, then
     * pass one token at a time; each step costs the same whatever the position. This is the reference decoding path
     * (plain DJL ops through the kernels); {@link Decoder} is the fast one, and tests compare them.
     */
    public NDArray step(NDArray tokens, KvCache cache) {
        long b = tokens.getShape().get(0);
        if (b != cache.batch()) {
            throw new IllegalArgumentException("tokens batch " + b + " does not match the KV cache batch "
                    + cache.batch() + ": create the cache with newCache(" + b + ")");
        }
        return step(tokens, cache, 0);
    }

    /**
     * As {@link #step(NDArray, KvCache)} for the cache rows [row, row + B) only, which must be at one position;
     * the other rows are left untouched.
     */
    public NDArray step(NDArray tokens, KvCache cache, int row) {
        checkTokens(tokens);
        int b = Math.toIntExact(tokens.getShape().get(0));
        int t = Math.toIntExact(tokens.getShape().get(1));
        if (row < 0 || row + b > cache.batch()) {
            throw new IllegalArgumentException("rows [" + row + ", " + (row + b) + ") are outside the KV cache's "
                    + cache.batch() + " rows: create the cache with enough rows");
        }
        int pos = cache.position(row);
        for (int r = row + 1; r < row + b; r++) {
            if (cache.position(r) != pos) {
                throw new IllegalArgumentException("KV cache rows " + row + " and " + r + " are at positions " + pos
                        + " and " + cache.position(r) + ": step rows of different positions one at a time");
            }
        }
        if (pos + t > cache.capacity()) {
            throw new IllegalArgumentException("the KV cache holds " + cache.capacity() + " positions (the context "
                    + "length) and has " + pos + ", cannot add " + t + ": reset() it and prefill the "
                    + "last tokens again (sliding window)");
        }
        // ids in [V, Vp) would silently read zero padding rows: check them here (this oracle path may sync the
        // device; the Decoder checks ids in Java instead)
        long max = tokens.max().toType(DataType.INT64, false).getLong();
        long min = tokens.min().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= config.vocabSize()) {
            throw new IllegalArgumentException("token ids must be in [0, " + config.vocabSize() + "), got ["
                    + min + ", " + max + "]: encode with the tokenizer the model was trained with");
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            if (pos > 0 && t > 1) {
                // the kernels' causal mask assumes Tq == Tk: extend a non-empty cache one position at a time
                NDList outs = new NDList(t);
                for (int i = 0; i < t; i++) {
                    outs.add(decode(tokens.get(new NDIndex(":, {}:{}", i, i + 1)), cache, row)); // (B, 1, V)
                }
                return NDArrays.concat(outs, 1); // (B, T, V)
            }
            return decode(tokens, cache, row);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private NDArray decode(NDArray tokens, KvCache cache, int row) {
        int pos = cache.position(row);
        int b = Math.toIntExact(tokens.getShape().get(0));
        NDArray x = embed(tokens, pos, false); // (B, T, C)
        NDArray y = steps.decode(x, cache, row, pos); // (B, T, C)
        cache.advance(row, row + b, Math.toIntExact(tokens.getShape().get(1)));
        return head(y); // (B, T, V)
    }

    /** The eval forward pass seen and edited by a diagnostics probe. Returns logits (B, T, V). */
    NDArray logits(NDArray tokens, Steps.Probe probe) {
        checkTokens(tokens);
        NDArray x = embed(tokens, 0, false); // (B, T, C)
        return head(steps.forward(x, false, probe));
    }

    private NDArray embed(NDArray tokens, long offset, boolean training) {
        NDArray x = Embedding.embedding(tokens, wte, SparseFormat.DENSE).singletonOrThrow(); // (B, T, C)
        if (wpe != null) {
            long t = tokens.getShape().get(1);
            x = x.add(wpe.get(x.getManager(), new NDIndex("{}:{}", offset, offset + t))); // (B, T, C) + (T, C)
        }
        if (training && config.dropout() > 0) {
            x = Dropout.dropout(x, (float) config.dropout(), true).singletonOrThrow();
        }
        return x;
    }

    private NDArray head(NDArray y) {
        NDArray logits = runtime.kernels().linear(lnF.forward(y), lmHead, runtime.precision()); // (B, T, Vp)
        if (config.paddedVocabSize() != config.vocabSize()) {
            logits = logits.get(new NDIndex(":, :, :{}", config.vocabSize())); // (B, T, V), a view
        }
        return logits;
    }

    private void checkTokens(NDArray tokens) {
        Shape s = tokens.getShape();
        int contextLength = config.contextLength();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("tokens must be (batch, time), got shape " + s);
        }
        if (s.get(1) > contextLength || s.get(1) == 0) {
            throw new IllegalArgumentException("tokens have " + s.get(1) + " positions but the model's context "
                    + "length is " + contextLength + ": crop the sequence to the last " + contextLength + " tokens");
        }
        DataType dt = tokens.getDataType();
        if (dt != DataType.INT32 && dt != DataType.INT64) {
            throw new IllegalArgumentException("tokens must be int32 or int64 token ids, got " + dt);
        }
        if (!tokens.getDevice().equals(runtime.device())) {
            throw new IllegalArgumentException("tokens are on " + tokens.getDevice() + " but the model is on "
                    + runtime.device() + ": create them with an NDManager of the model's device");
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
