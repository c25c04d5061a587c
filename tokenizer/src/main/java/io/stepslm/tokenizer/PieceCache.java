package io.stepslm.tokenizer;

/**
 * Pre-token -> ids cache, looked up by a range of the text so that a hit allocates nothing (no substring, no boxed
 * map entry). A hit on a short pre-token touches one object: the first 8 characters are packed into two longs and a
 * one-token result is stored inline, because on a large text the lookup cost is memory latency, not arithmetic.
 * Open addressing with at most {@link #PROBES} probes; when those slots are taken the first is replaced, so memory
 * is bounded by the table size whatever the corpus. Shared by threads without locks: an {@link Entry} has only final
 * fields, so a reader sees either null or a complete entry (JLS 17.5); racing writers can only lose an entry.
 */
final class PieceCache {

    private static final int PROBES = 4;

    static final class Entry {
        final int hash;
        final int length;
        final long k0;
        final long k1;
        /** The whole key when it is longer than 8 characters, else null. */
        final char[] longKey;
        /** The ids; {@link #single} holds the id when there is exactly one, else -1. */
        final int[] ids;
        final int single;

        Entry(String key, int hash, int[] ids) {
            this.hash = hash;
            this.length = key.length();
            this.k0 = pack(key, 0, Math.min(4, length));
            this.k1 = length > 4 ? pack(key, 4, Math.min(8, length)) : 0;
            this.longKey = length > 8 ? key.toCharArray() : null;
            this.ids = ids;
            this.single = ids.length == 1 ? ids[0] : -1;
        }
    }

    private final Entry[] table;
    private final int mask;

    PieceCache(int capacityPowerOfTwo) {
        table = new Entry[capacityPowerOfTwo];
        mask = capacityPowerOfTwo - 1;
    }

    /** String.hashCode of s[from, to). */
    static int hash(String s, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + s.charAt(i);
        }
        return h;
    }

    private static long pack(CharSequence s, int from, int to) {
        long k = 0;
        for (int i = from; i < to; i++) {
            k |= (long) s.charAt(i) << (16 * (i - from));
        }
        return k;
    }

    Entry find(String s, int from, int to, int hash) {
        int len = to - from;
        int i = spread(hash);
        for (int p = 0; p < PROBES; p++) {
            Entry e = table[(i + p) & mask];
            if (e == null) {
                return null;
            }
            if (e.hash == hash && e.length == len && matches(e, s, from, len)) {
                return e;
            }
        }
        return null;
    }

    int[] get(String s, int from, int to, int hash) {
        Entry e = find(s, from, to, hash);
        return e == null ? null : e.ids;
    }

    void put(String key, int hash, int[] ids) {
        int i = spread(hash);
        for (int p = 0; p < PROBES; p++) {
            int slot = (i + p) & mask;
            if (table[slot] == null) {
                table[slot] = new Entry(key, hash, ids);
                return;
            }
        }
        table[i & mask] = new Entry(key, hash, ids);
    }

    private static boolean matches(Entry e, String s, int from, int len) {
        if (e.k0 != pack(s, from, from + Math.min(4, len))) {
            return false;
        }
        if (len <= 4) {
            return true;
        }
        if (e.k1 != pack(s, from + 4, from + Math.min(8, len))) {
            return false;
        }
        char[] key = e.longKey;
        for (int k = 8; k < len; k++) {
            if (key[k] != s.charAt(from + k)) {
                return false;
            }
        }
        return true;
    }

    private static int spread(int h) {
        return h ^ (h >>> 15) ^ (h >>> 7);
    }
}
