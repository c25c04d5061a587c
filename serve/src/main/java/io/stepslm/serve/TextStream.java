package io.stepslm.serve;

import io.stepslm.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * A generation's tokens turned into text as they arrive, as llama.cpp's server streams it: text is released only up
 * to the last complete character (a BPE token can end inside a UTF-8 sequence; the decoder marks the incomplete tail
 * with U+FFFD) and a tail that could be the start of a stop string is held back until it is decided. The first stop
 * string found ends the text, without the stop string itself (OpenAI's {@code stop}).
 */
public final class TextStream {

    /** A tail of at most this many tokens still decoding to U+FFFD is invalid UTF-8, not an incomplete character. */
    private static final int MAX_INCOMPLETE = 8;

    private final Tokenizer tokenizer;
    private final List<String> stops;
    private int[] pending = new int[0];
    private String held = "";
    private boolean stopped;

    public TextStream(Tokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = List.copyOf(stops);
    }

    /** Adds one token and returns the text that became final (often empty); nothing once a stop string was seen. */
    public String accept(int token) {
        if (stopped) {
            return "";
        }
        pending = Arrays.copyOf(pending, pending.length + 1);
        pending[pending.length - 1] = token;
        String text = tokenizer.decode(pending);
        if (text.endsWith("\uFFFD") && pending.length <= MAX_INCOMPLETE) {
            return "";
        }
        pending = new int[0];
        held += text;
        return release();
    }

    /** True once a stop string ended the text: the generation can be cancelled. */
    public boolean stopped() {
        return stopped;
    }

    /** The text still held back, at the end of the generation. */
    public String flush() {
        if (stopped) {
            return "";
        }
        if (pending.length > 0) {
            held += tokenizer.decode(pending);
            pending = new int[0];
        }
        String out = release();
        if (stopped) {
            return out;
        }
        out += held;
        held = "";
        return out;
    }

    private String release() {
        int first = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held = "";
            return out;
        }
        int keep = 0;
        for (String stop : stops) {
            for (int k = Math.min(stop.length() - 1, held.length()); k > keep; k--) {
                if (held.endsWith(stop.substring(0, k))) {
                    keep = k;
                    break;
                }
            }
        }
        String out = held.substring(0, held.length() - keep);
        held = held.substring(held.length() - keep);
        return out;
    }
}
