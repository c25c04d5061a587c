package io.stepslm.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from a pair of ids, packed as {@code (long) left << 32 | right}, to a long value,
 * with no boxing: the encoder maps a pair to {@code rank << 32 | mergedId}, the trainer a pair to its count.
 */
final class PairTable {

    static final long MISSING = Long.MIN_VALUE;
    private static final long EMPTY = -1L;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    PairTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new long[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
    }

    static long key(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    int size() {
        return size;
    }

    long get(long key) {
        int i = slot(key);
        while (true) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return MISSING;
            }
            i = (i + 1) & mask;
        }
    }

    void put(long key, long value) {
        int i = slot(key);
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == EMPTY) {
            keys[i] = key;
            if (++size * 2 > keys.length) {
                values[i] = value;
                grow();
                return;
            }
        }
        values[i] = value;
    }

    /** Adds delta to the value (missing counts as 0) and returns the new value. */
    long add(long key, long delta) {
        int i = slot(key);
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == EMPTY) {
            keys[i] = key;
            values[i] = delta;
            if (++size * 2 > keys.length) {
                grow();
            }
            return delta;
        }
        return values[i] += delta;
    }

    /** Calls the visitor for every entry. */
    void forEach(Visitor v) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                v.visit(keys[i], values[i]);
            }
        }
    }

    interface Visitor {
        void visit(long key, long value);
    }

    private int slot(long key) {
        // MurmurHash3 fmix64: every key bit reaches the low bits (left and right ids both matter)
        long h = key;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return (int) h & mask;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int j = slot(oldKeys[i]);
                while (keys[j] != EMPTY) {
                    j = (j + 1) & mask;
                }
                keys[j] = oldKeys[i];
                values[j] = oldValues[i];
            }
        }
    }
}
