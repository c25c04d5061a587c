package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every block for incremental decoding (as llama.cpp's KV cache): preallocated to the context
 * length and written in place, so one decoding step costs the same native calls at every position (attention reads
 * a view of the first {@code position} rows). Each block's buffers have that block's step width: nh_i heads of hs.
 * Owns its native memory: close it (or reuse it after {@link #reset()}).
 *
 * <p>Dimension legend: B batch, nh heads of the block's step, Tmax context length, hs head size.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys; // per block (B, nh, Tmax, hs)
    private final NDArray[] values; // per block (B, nh, Tmax, hs)
    private final int batch;
    private final int capacity;
    private int position;

    KvCache(NDManager parent, ModelConfig config, int batch) {
        if (batch <= 0) {
            throw new IllegalArgumentException("KV cache batch " + batch + " must be positive");
        }
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.capacity = config.contextLength();
        this.keys = new NDArray[config.blocks()];
        this.values = new NDArray[config.blocks()];
        int b = 0;
        for (int i = 0; i < config.steps().size(); i++) {
            Shape shape = new Shape(batch, config.heads(i), capacity, config.headSize());
            for (int j = 0; j < config.steps().get(i).depth(); j++, b++) {
                keys[b] = manager.zeros(shape, DataType.FLOAT32);
                values[b] = manager.zeros(shape, DataType.FLOAT32);
            }
        }
    }

    /** Number of positions already cached (the position of the next token). */
    public int position() {
        return position;
    }

    /** Longest sequence the cache can hold: the model's context length. */
    public int capacity() {
        return capacity;
    }

    public int batch() {
        return batch;
    }

    /** Forgets every cached position (buffers are reused, stale rows are never read). */
    public void reset() {
        position = 0;
    }

    /** Per block: keys and values of its step width. */
    NDArray keys(int block) {
        return keys[block];
    }

    NDArray values(int block) {
        return values[block];
    }

    void advance(int positions) {
        position += positions;
    }

    /** The shape of one block's key buffer (tests check the per-step widths). */
    public Shape keyShape(int block) {
        return keys[block].getShape();
    }

    @Override
    public void close() {
        manager.close();
    }
}
