package io.stepslm.tokenizer;

/**
 * GPT-2's reversible byte-to-unicode mapping: every byte becomes one printable character so that BPE works on
 * strings without whitespace or control characters. Printable Latin-1 bytes map to themselves, the other 68 bytes
 * to U+0100.. in byte order (openai/gpt-2 encoder.py {@code bytes_to_unicode}; HuggingFace
 * tokenizers/src/pre_tokenizers/byte_level.rs). Sorting the 256 characters by code point gives GPT-2's ids 0..255.
 */
final class ByteLevel {

    /** Character for each byte value. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** Byte value for each mapped character (index = char), -1 for characters that are not byte-level. */
    static final int[] CHAR_TO_BYTE = new int[324];

    static {
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
        }
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {}

    /** The byte-level string of some UTF-8 bytes. */
    static String encode(byte[] utf8, int from, int to) {
        char[] out = new char[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /** The bytes of a byte-level string, or null when it contains a character outside the 256-character alphabet. */
    static byte[] decode(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** The 256 alphabet characters in code point order, which is GPT-2's order of ids 0..255. */
    static String[] alphabet() {
        char[] chars = BYTE_TO_CHAR.clone();
        java.util.Arrays.sort(chars);
        String[] out = new String[256];
        for (int i = 0; i < 256; i++) {
            out[i] = String.valueOf(chars[i]);
        }
        return out;
    }
}
