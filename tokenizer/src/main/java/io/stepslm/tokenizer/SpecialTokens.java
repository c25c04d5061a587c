package io.stepslm.tokenizer;

import java.util.List;

/**
 * Finds special tokens in text before any splitting, leftmost first and the longest among those that start at the
 * same place (HuggingFace's added-vocabulary matcher is Aho-Corasick with LeftmostLongest). Matched specials are
 * emitted as their own id and never merged with neighbouring text.
 */
final class SpecialTokens {

    private final String[] tokens;

    SpecialTokens(List<String> tokens) {
        for (String t : tokens) {
            if (t.isEmpty()) {
                throw new IllegalArgumentException("special tokens must not be empty strings");
            }
        }
        this.tokens = tokens.toArray(String[]::new);
    }

    int size() {
        return tokens.length;
    }

    String token(int index) {
        return tokens[index];
    }

    int maxLength() {
        int m = 0;
        for (String t : tokens) {
            m = Math.max(m, t.length());
        }
        return m;
    }

    /** A cursor over one text; {@link Cursor#find} walks forward through the matches. */
    Cursor cursor(String text) {
        return new Cursor(text);
    }

    final class Cursor {
        private final String text;
        /** Next occurrence of each token at or after the last search position (-1 when none is left). */
        private final int[] next;
        int start;
        int index;

        private Cursor(String text) {
            this.text = text;
            this.next = new int[tokens.length];
            java.util.Arrays.fill(next, -2);
        }

        /** Moves to the first match at or after {@code from}; false when there is none (then start = text length). */
        boolean find(int from) {
            int best = -1;
            int bestLen = 0;
            for (int t = 0; t < tokens.length; t++) {
                if (next[t] != -1 && next[t] < from) {
                    next[t] = text.indexOf(tokens[t], from);
                }
                int p = next[t];
                if (p >= 0 && (best < 0 || p < best || (p == best && tokens[t].length() > bestLen))) {
                    best = p;
                    bestLen = tokens[t].length();
                    index = t;
                }
            }
            start = best < 0 ? text.length() : best;
            return best >= 0;
        }

        int end() {
            return start + tokens[index].length();
        }
    }
}
