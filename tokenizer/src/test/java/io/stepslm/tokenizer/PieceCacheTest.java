package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PieceCacheTest {

    @Test
    void aFullCacheReplacesEntriesButNeverAnswersWrongly() {
        PieceCache cache = new PieceCache(8);
        String text = "";
        for (int i = 0; i < 200; i++) {
            String key = "k" + i;
            cache.put(key, PieceCache.hash(key, 0, key.length()), new int[] {i});
            text += " " + key;
        }
        int hits = 0;
        for (int i = 0; i < 200; i++) {
            String key = "k" + i;
            int from = text.indexOf(" " + key + (i < 199 ? " " : "")) + 1;
            int[] ids = cache.get(text, from, from + key.length(), PieceCache.hash(text, from, from + key.length()));
            if (ids != null) {
                assertArrayEquals(new int[] {i}, ids);
                hits++;
            }
        }
        assertTrue(hits > 0 && hits <= 8, "hits " + hits);
        // same hash and length, different characters: "Aa" and "BB" collide in String.hashCode
        PieceCache c = new PieceCache(16);
        c.put("Aa", "Aa".hashCode(), new int[] {1});
        assertNull(c.get("xBBx", 1, 3, PieceCache.hash("xBBx", 1, 3)));
        assertArrayEquals(new int[] {1}, c.get("xAax", 1, 3, PieceCache.hash("xAax", 1, 3)));
        // longer than the 8 packed characters, same hash, same first 8 characters: the rest decides
        c.put("AaAaAaAaAa", "AaAaAaAaAa".hashCode(), new int[] {2, 3});
        assertNull(c.get("AaAaAaAaBB", 0, 10, PieceCache.hash("AaAaAaAaBB", 0, 10)));
        assertArrayEquals(new int[] {2, 3}, c.get(" AaAaAaAaAa", 1, 11, PieceCache.hash(" AaAaAaAaAa", 1, 11)));
    }
}
