package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;

/**
 * Keys and values of every block for incremental decoding (as llama.cpp's KV cache): preallocated and written in
 * place, so one decoding step costs the same native calls at every position (attention reads the first rows of a
 * view). Each block's buffers have that block's step width: nh_i heads of hs. Every batch row has its own position,
 * so rows can hold unrelated sequences that join and leave at any time (continuous batching, {@link Decoder}).
 * Each buffer has one column more than the context length: a scratch column that batched steps write for rows
 * that take no part in them, and that attention never reads. Owns its native memory: close it.
 *
 * <p>Dimension legend: B batch rows, nh heads of the block's step, Tmax context length, hs head size.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys; // per block (B, nh, Tmax + 1, hs)
    private final NDArray[] values; // per block (B, nh, Tmax + 1, hs)
    private final int batch;
    private final int capacity;
    private final int[] positions; // per row: cached positions, the position of the row's next token

    KvCache(NDManager parent, ModelConfig config, int batch) {
        if (batch <= 0) {
            throw new IllegalArgumentException("KV cache batch " + batch + " must be positive");
        }
        this.manager = parent.newSubManager();
        this.batch = batch;
        this.capacity = config.contextLength();
        this.positions = new int[batch];
        this.keys = new NDArray[config.blocks()];
        this.values = new NDArray[config.blocks()];
        int b = 0;
        for (int i = 0; i < config.steps().size(); i++) {
            Shape shape = new Shape(batch, config.heads(i), capacity + 1L, config.headSize());
            for (int j = 0; j < config.steps().get(i).depth(); j++, b++) {
                keys[b] = manager.zeros(shape, DataType.FLOAT32);
                values[b] = manager.zeros(shape, DataType.FLOAT32);
            }
        }
    }

    /** Number of positions cached in every row (the position of the next token); rows must agree. */
    public int position() {
        int p = positions[0];
        for (int r = 1; r < batch; r++) {
            if (positions[r] != p) {
                throw new IllegalStateException("the KV cache rows are at different positions "
                        + Arrays.toString(positions) + ": ask position(row)");
            }
        }
        return p;
    }

    /** Number of positions cached in one row (the position of its next token). */
    public int position(int row) {
        return positions[checkRow(row)];
    }

    /** Longest sequence the cache can hold per row: the model's context length. */
    public int capacity() {
        return capacity;
    }

    public int batch() {
        return batch;
    }

    /** Forgets every cached position of every row (buffers are reused, stale columns are never read). */
    public void reset() {
        Arrays.fill(positions, 0);
    }

    /** Forgets every cached position of one row, leaving the others untouched. */
    public void reset(int row) {
        positions[checkRow(row)] = 0;
    }

    /** Per block: keys and values of its step width, (B, nh, Tmax + 1, hs). */
    NDArray keys(int block) {
        return keys[block];
    }

    NDArray values(int block) {
        return values[block];
    }

    int blocks() {
        return keys.length;
    }

    /** Moves rows [from, to) on by {@code count} positions after their keys and values were written. */
    void advance(int from, int to, int count) {
        for (int r = from; r < to; r++) {
            positions[r] += count;
        }
    }

    /** Moves one row on by {@code count} positions. */
    void advance(int row, int count) {
        positions[checkRow(row)] += count;
    }

    /** The shape of one block's key buffer (tests check the per-step widths). */
    public Shape keyShape(int block) {
        return keys[block].getShape();
    }

    private int checkRow(int row) {
        if (row < 0 || row >= batch) {
            throw new IllegalArgumentException("KV cache row " + row + " is outside [0, " + batch + ")");
        }
        return row;
    }

    @Override
    public void close() {
        manager.close();
    }
}
