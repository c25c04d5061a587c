package io.stepslm.tokenizer;

/**
 * The pre-tokenization split patterns, each implemented twice: the regex (written into {@code tokenizer.json},
 * which HuggingFace evaluates with Oniguruma) and a hand-written scanner over code points that returns exactly the
 * same pieces about ten times faster than {@code java.util.regex}. {@code SplitPatternTest} checks scanner = regex.
 *
 * <p>Character classes follow Oniguruma's Unicode semantics: {@code \p{L}} letters (Lu Ll Lt Lm Lo), {@code \p{N}}
 * numbers (Nd Nl No), {@code \s} the Unicode White_Space property (not Java's {@link Character#isWhitespace}).
 */
public enum SplitPattern {

    /** GPT-2 (openai/gpt-2 encoder.py; HuggingFace ByteLevel with use_regex=true). */
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+") {
        @Override
        int next(CharSequence s, int i, int end) {
            char c = s.charAt(i);
            if (c == '\'' && i + 1 < end) {
                char d = s.charAt(i + 1);
                if (d == 's' || d == 't' || d == 'm' || d == 'd') {
                    return i + 2;
                }
                if (i + 2 < end) {
                    char e = s.charAt(i + 2);
                    if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) {
                        return i + 3;
                    }
                }
            }
            int j = (c == ' ' && i + 1 < end) ? i + 1 : i;
            int cls = classAt(s, j);
            if (cls == LETTER || cls == NUMBER || cls == OTHER) {
                return scan(s, j, end, cls);
            }
            return whitespace(s, i, end);
        }
    },

    /** GPT-4's cl100k_base (openai/tiktoken tiktoken_ext/openai_public.py). */
    CL100K("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+") {
        @Override
        int next(CharSequence s, int i, int end) {
            char c = s.charAt(i);
            if (c == '\'' && i + 1 < end) {
                char d = foldS(s.charAt(i + 1));
                if (d == 's' || d == 't' || d == 'm' || d == 'd') {
                    return i + 2;
                }
                if (i + 2 < end) {
                    char e = Character.toLowerCase(s.charAt(i + 2));
                    if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) {
                        return i + 3;
                    }
                }
            }
            int cls = classAt(s, i);
            if (cls == LETTER) {
                return scan(s, i, end, LETTER);
            }
            if (cls != NUMBER && c != '\r' && c != '\n') {
                int j = i + Character.charCount(Character.codePointAt(s, i));
                if (j < end && classAt(s, j) == LETTER) {
                    return scan(s, j, end, LETTER);
                }
            }
            if (cls == NUMBER) {
                int k = i;
                for (int n = 0; n < 3 && k < end && classAt(s, k) == NUMBER; n++) {
                    k += Character.charCount(Character.codePointAt(s, k));
                }
                return k;
            }
            int j = (c == ' ' && i + 1 < end && classAt(s, i + 1) == OTHER) ? i + 1 : i;
            if (classAt(s, j) == OTHER) {
                int k = scan(s, j, end, OTHER);
                while (k < end && (s.charAt(k) == '\r' || s.charAt(k) == '\n')) {
                    k++;
                }
                return k;
            }
            int k = i;
            int lastNewline = -1;
            while (k < end && isWhitespace(s.charAt(k))) {
                if (s.charAt(k) == '\r' || s.charAt(k) == '\n') {
                    lastNewline = k;
                }
                k++;
            }
            if (lastNewline >= 0) {
                return lastNewline + 1;
            }
            return whitespace(s, i, end);
        }
    };

    static final int LETTER = 0;
    static final int NUMBER = 1;
    static final int SPACE = 2;
    static final int OTHER = 3;

    private static final byte[] ASCII_CLASS = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII_CLASS[c] = (byte) classOf(c);
        }
    }

    private final String regex;

    SplitPattern(String regex) {
        this.regex = regex;
    }

    /** The regex as HuggingFace and tiktoken write it. */
    public String regex() {
        return regex;
    }

    /** End (exclusive) of the pre-token that starts at {@code i}; {@code i < end}. */
    abstract int next(CharSequence s, int i, int end);

    /** The pieces of {@code s}, for tests and tools; encoding uses {@link #next} without allocating a list. */
    public java.util.List<String> split(String s) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            int e = next(s, i, s.length());
            out.add(s.substring(i, e));
            i = e;
        }
        return out;
    }

    /** The pattern whose regex is {@code regex}, or an exception naming the regex and the two supported ones. */
    static SplitPattern ofRegex(String regex, String where) {
        for (SplitPattern p : values()) {
            if (p.regex.equals(regex)) {
                return p;
            }
        }
        throw new IllegalArgumentException(where + ": unsupported split regex " + regex
                + " (stepslm supports GPT-2's and cl100k's patterns only)");
    }

    // Oniguruma folds U+017F (long s) to 's' under (?i).
    private static char foldS(char c) {
        return c == '\u017F' ? 's' : Character.toLowerCase(c);
    }

    /** \s+(?!\S)|\s+ starting at i: a whitespace run, minus its last character when non-whitespace follows. */
    static int whitespace(CharSequence s, int i, int end) {
        int k = i;
        while (k < end && isWhitespace(s.charAt(k))) {
            k++;
        }
        if (k == end) {
            return end;
        }
        return k - i >= 2 ? k - 1 : Math.max(k, i + 1);
    }

    static int scan(CharSequence s, int j, int end, int cls) {
        int k = j;
        while (k < end) {
            char c = s.charAt(k);
            if (c < 128) {
                if (ASCII_CLASS[c] != cls) {
                    return k;
                }
                k++;
            } else {
                int cp = Character.codePointAt(s, k);
                if (classOf(cp) != cls) {
                    return k;
                }
                k += Character.charCount(cp);
            }
        }
        return k;
    }

    static int classAt(CharSequence s, int i) {
        char c = s.charAt(i);
        return c < 128 ? ASCII_CLASS[c] : classOf(Character.codePointAt(s, i));
    }

    static int classOf(int cp) {
        if (isWhitespace(cp)) {
            return SPACE;
        }
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER:
                return NUMBER;
            default:
                return OTHER;
        }
    }

    /** The Unicode White_Space property (what Oniguruma's \s means), all in the BMP. */
    static boolean isWhitespace(int c) {
        if (c < 128) {
            return c == ' ' || (c >= 9 && c <= 13);
        }
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000;
    }
}
