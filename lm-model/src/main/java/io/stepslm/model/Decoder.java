package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * Incremental decoding for generation: {@code rows} independent sequences in one {@link KvCache}, each row with its
 * own position, so that sequences can join and leave between steps (continuous batching). {@link #prefill} feeds a
 * row's prompt, {@link #step} feeds one token to each of several rows at once; both return only the logits of each
 * row's last position, as FP32 Java arrays. Token ids are checked in Java, never by a device read.
 *
 * <p>With the fused kernels in FP32 every call is one native call ({@link FusedDecoding}: every block, the in-place
 * cache write and the head in one TorchScript method); otherwise each row runs the reference path
 * {@link LanguageModel#step(NDArray, KvCache, int)}, the oracle of the fused one. The fused path copies the weight
 * matrices when the decoder is created (transposed, for the matrix-vector products of a single row): create a new
 * decoder after the weights change. Not thread-safe; close it before the model.
 *
 * <p>Dimension legend: V vocabulary.
 */
public final class Decoder implements AutoCloseable {

    private final LanguageModel model;
    private final KvCache cache;
    private final FusedDecoding fused; // null: the reference path
    private final int vocab;

    Decoder(LanguageModel model, int rows) {
        this.model = model;
        this.vocab = model.config().vocabSize();
        this.cache = model.newCache(rows);
        ModelRuntime rt = model.runtime();
        try {
            this.fused = rt.kernels() instanceof TorchScriptKernels k && rt.precision() == Precision.FP32
                    ? new FusedDecoding(model, cache, k) : null;
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
    }

    /** "fused" (one native call per step) or "reference" (plain DJL ops per row), for logs. */
    public String path() {
        return fused != null ? "fused" : "reference";
    }

    public int rows() {
        return cache.batch();
    }

    /** Positions a row can hold: the model's context length. */
    public int capacity() {
        return cache.capacity();
    }

    /** Cached positions of a row: the position its next token takes. */
    public int position(int row) {
        return cache.position(row);
    }

    /** Forgets a row's positions (a new sequence, or a context shift before prefilling the kept tokens again). */
    public void reset(int row) {
        cache.reset(row);
    }

    /**
     * Appends {@code tokens} to row {@code row} and returns the logits (V) after its last token. The row must have
     * room: position(row) + tokens.length <= capacity().
     */
    public float[] prefill(int row, int[] tokens) {
        int pos = cache.position(row);
        if (tokens.length == 0) {
            throw new IllegalArgumentException("prefill needs at least one token for row " + row);
        }
        if (pos + tokens.length > cache.capacity()) {
            throw new IllegalArgumentException("row " + row + " holds " + pos + " of " + cache.capacity()
                    + " positions, cannot add " + tokens.length + ": reset(row) and prefill the last tokens again");
        }
        checkIds(tokens);
        if (fused == null) {
            return reference(row, tokens);
        }
        float[] logits = fused.run(row, 1, tokens.length, pos + tokens.length, tokens, new int[] {pos},
                new int[] {pos});
        cache.advance(row, tokens.length);
        return logits;
    }

    /**
     * Feeds {@code tokens[i]} to row {@code rows[i]} (distinct rows, each with room for one more position) in one
     * batched step and returns the logits (V) after it for each listed row, in the order given. Unlisted rows are
     * left as they are.
     */
    public float[][] step(int[] rows, int[] tokens) {
        if (rows.length != tokens.length || rows.length == 0) {
            throw new IllegalArgumentException("step needs one token per row, got " + rows.length + " rows and "
                    + tokens.length + " tokens");
        }
        checkIds(tokens);
        int lo = Integer.MAX_VALUE;
        int hi = -1;
        for (int r : rows) {
            if (cache.position(r) >= cache.capacity()) {
                throw new IllegalArgumentException("row " + r + " is full (" + cache.capacity() + " positions): "
                        + "reset(row) and prefill the last tokens again (context shift)");
            }
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
        }
        float[][] out = new float[rows.length][];
        if (fused == null) {
            checkDistinct(rows);
            for (int i = 0; i < rows.length; i++) {
                out[i] = reference(rows[i], new int[] {tokens[i]});
            }
            return out;
        }
        if (rows.length == 1) {
            out[0] = fused.runOne(lo, cache.position(lo), tokens[0]);
            cache.advance(lo, 1);
            return out;
        }
        int b = hi - lo + 1;
        int[] ids = new int[b];
        int[] pos = new int[b];
        int[] write = new int[b];
        Arrays.fill(write, cache.capacity()); // rows not listed write the scratch column, which nobody reads
        boolean[] listed = new boolean[b];
        int tk = 0;
        for (int i = 0; i < rows.length; i++) {
            int r = rows[i] - lo;
            if (listed[r]) {
                throw new IllegalArgumentException("row " + rows[i] + " is listed twice in one step");
            }
            listed[r] = true;
            ids[r] = tokens[i];
            pos[r] = cache.position(rows[i]);
            write[r] = pos[r];
            tk = Math.max(tk, pos[r] + 1);
        }
        float[] flat = fused.run(lo, b, 1, tk, ids, pos, write); // (b, V)
        for (int i = 0; i < rows.length; i++) {
            int r = rows[i] - lo;
            out[i] = Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
            cache.advance(rows[i], 1);
        }
        return out;
    }

    private float[] reference(int row, int[] tokens) {
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray ids = scope.create(tokens, new Shape(1, tokens.length)); // (1, T)
            NDArray logits = model.step(ids, cache, row); // (1, T, V)
            return logits.get(new NDIndex("0, -1")).toFloatArray(); // (V)
        }
    }

    private static void checkDistinct(int[] rows) {
        int[] sorted = rows.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("row " + sorted[i] + " is listed twice in one step");
            }
        }
    }

    private void checkIds(int[] tokens) {
        for (int id : tokens) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the model's vocabulary [0, " + vocab
                        + "): encode with the tokenizer the model was trained with");
            }
        }
    }

    @Override
    public void close() {
        if (fused != null) {
            fused.close();
        }
        cache.close();
    }
}
