package io.stepslm.tokenizer;

/**
 * Pre-token -> ids cache, looked up by a range of the text so that a hit allocates nothing (no substring, no boxed
 * map entry). Open addressing with at most {@link #PROBES} probes; when those slots are taken the first is replaced,
 * so memory is bounded by the table size whatever the corpus. Shared by threads without locks: an {@link Entry} has
 * only final fields, so a reader sees either null or a complete entry (JLS 17.5); racing writers can only lose a
 * cache entry, never corrupt one.
 */
final class PieceCache {

    private static final int PROBES = 4;

    private static final class Entry {
        final char[] key;
        final int hash;
        final int[] ids;

        Entry(String key, int hash, int[] ids) {
            this.key = key.toCharArray();
            this.hash = hash;
            this.ids = ids;
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

    int[] get(String s, int from, int to, int hash) {
        int len = to - from;
        int i = spread(hash);
        for (int p = 0; p < PROBES; p++) {
            Entry e = table[(i + p) & mask];
            if (e == null) {
                return null;
            }
            if (e.hash == hash && e.key.length == len && sameChars(e.key, s, from)) {
                return e.ids;
            }
        }
        return null;
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

    // a plain loop: String.regionMatches is slow when the text and the key have different internal coders
    private static boolean sameChars(char[] key, String s, int from) {
        for (int k = 0; k < key.length; k++) {
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
