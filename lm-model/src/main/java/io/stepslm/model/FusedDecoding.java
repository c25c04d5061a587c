package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.StepsLmMethodCall;

import java.util.ArrayList;
import java.util.List;

/**
 * The fused decoding step ({@code decode} in {@link KernelArchive}): the whole step of every row as one native call.
 * The model's weights, the cache buffers and the config layout are handed to libtorch once, as TorchScript lists
 * built here and kept for the decoder's lifetime (they reference the same storage, so the in-place cache writes
 * land in the {@link KvCache}); a call passes one list of ints and reads back only the last position's logits.
 * A single sequence's step ({@code decode_one}) multiplies by transposed copies (in, out) of the weight matrices,
 * made once here: they cost as much memory as the matrices and hold the weights as they were at creation.
 *
 * <p>Dimension legend: B rows in the call, T new positions per row, V vocabulary.
 */
final class FusedDecoding implements AutoCloseable {

    private final TorchScriptKernels kernels;
    private final NDManager scratch;
    private final IValue glob;
    private final IValue blocks;
    private final IValue transposed; // per block qkv, proj, fc, mlp proj, then the head: (in, out) copies
    private final IValue keys;
    private final IValue values;
    private final IValue layout;
    private final int vocab;

    FusedDecoding(LanguageModel model, KvCache cache, TorchScriptKernels kernels) {
        this.kernels = kernels;
        this.scratch = model.manager().newSubManager();
        ModelConfig c = model.config();
        this.vocab = c.vocabSize();
        java.util.Map<String, NDArray> p = model.parameters();
        NDArray none = scratch.create(new Shape(0), DataType.FLOAT32); // placeholder where the config has no tensor
        Rotary rotary = model.rotary();
        this.glob = IValue.listFrom(pt(p.get("wte.weight")), pt(or(p.get("wpe.weight"), none)),
                pt(p.get("ln_f.weight")), pt(or(p.get("ln_f.bias"), none)), pt(model.lmHead()),
                pt(rotary.enabled() ? rotary.cos() : none), pt(rotary.enabled() ? rotary.sin() : none),
                pt(rotary.enabled() ? rotary.rotateHalf() : none));
        List<PtNDArray> perBlock = new ArrayList<>();
        List<PtNDArray> matrices = new ArrayList<>();
        List<PtNDArray> k = new ArrayList<>();
        List<PtNDArray> v = new ArrayList<>();
        int block = 0;
        for (int i = 0; i < c.steps().size(); i++) {
            for (int j = 0; j < c.steps().get(i).depth(); j++, block++) {
                String prefix = Steps.prefix(i, j);
                for (String name : new String[] {".ln1", ".attn.qkv", ".attn.proj", ".ln2", ".mlp.fc", ".mlp.proj"}) {
                    perBlock.add(pt(p.get(prefix + name + ".weight")));
                    perBlock.add(pt(or(p.get(prefix + name + ".bias"), none)));
                }
                for (String name : new String[] {".attn.qkv", ".attn.proj", ".mlp.fc", ".mlp.proj"}) {
                    matrices.add(pt(p.get(prefix + name + ".weight")));
                }
                k.add(pt(cache.keys(block)));
                v.add(pt(cache.values(block)));
            }
        }
        this.blocks = IValue.listFrom(perBlock.toArray(PtNDArray[]::new));
        matrices.add(pt(model.lmHead()));
        // one matrix-vector product reads W^T (in, out) row by row faster than W (out, in): measured 9.0 vs 6.7 ms
        // of CPU for this model's 25 products per token with libtorch's oneMKL (docs/benchmarks.md, "generate")
        try (IValue weights = IValue.listFrom(matrices.toArray(PtNDArray[]::new))) {
            this.transposed = kernels.callNoGrad("transposed", weights);
        }
        this.keys = IValue.listFrom(k.toArray(PtNDArray[]::new));
        this.values = IValue.listFrom(v.toArray(PtNDArray[]::new));
        int n = c.steps().size();
        long[] l = new long[8 + 2 * n];
        l[0] = c.vocabSize();
        l[1] = c.headSize();
        l[2] = c.norm() == ModelConfig.NormKind.RMS_NORM ? 1 : 0;
        l[3] = c.mlp() == ModelConfig.MlpKind.SWIGLU ? 1 : 0;
        l[4] = rotary.enabled() ? 1 : 0;
        l[5] = Norm.hasBias(c) ? 1 : 0;
        l[6] = c.bias() ? 1 : 0;
        l[7] = n;
        for (int i = 0; i < n; i++) {
            l[8 + i] = c.steps().get(i).width();
            l[8 + n + i] = c.steps().get(i).depth();
        }
        this.layout = IValue.listFrom(l);
    }

    /**
     * Runs rows row0 .. row0 + B - 1 with T tokens each ({@code tokens} row-major (B, T)) at positions {@code pos},
     * writing their keys and values at columns {@code write} (a row's position, or the scratch column for a row that
     * takes no part), attending to the first {@code tk} columns. Returns the logits (B, V) of each row's last token.
     */
    float[] run(int row0, int b, int t, int tk, int[] tokens, int[] pos, int[] write) {
        long[] step = new long[4 + b * t + 2 * b];
        step[0] = row0;
        step[1] = tk;
        step[2] = b;
        step[3] = t;
        for (int i = 0; i < b * t; i++) {
            step[4 + i] = tokens[i];
        }
        for (int i = 0; i < b; i++) {
            step[4 + b * t + i] = pos[i];
            step[4 + b * t + b + i] = write[i];
        }
        IValue in = IValue.listFrom(step);
        try (IValue out = kernels.callNoGrad("decode", glob, blocks, keys, values, layout, in);
             NDArray logits = out.toTensor((PtNDManager) scratch)) {
            float[] flat = logits.toFloatArray(); // (B, V): the one readback of the step
            if (flat.length != b * vocab) {
                throw new IllegalStateException("the fused decoding step returned " + flat.length + " logits, expected "
                        + b + " x " + vocab);
            }
            return flat;
        } finally {
            in.close();
        }
    }

    /** One row's one token at position {@code pos}: the decoding step of a single sequence. Returns (V) logits. */
    float[] runOne(int row, int pos, int token) {
        IValue in = IValue.listFrom(new long[] {row, pos, token});
        try (IValue out = kernels.callNoGrad("decode_one", glob, blocks, transposed, keys, values, layout, in);
             NDArray logits = out.toTensor((PtNDManager) scratch)) {
            return logits.toFloatArray(); // (V): the one readback of the step
        } finally {
            in.close();
        }
    }

    private static NDArray or(NDArray a, NDArray fallback) {
        return a != null ? a : fallback;
    }

    private static PtNDArray pt(NDArray a) {
        return (PtNDArray) a;
    }

    @Override
    public void close() {
        StepsLmMethodCall.close(glob, blocks, transposed, keys, values, layout);
        scratch.close();
    }
}
