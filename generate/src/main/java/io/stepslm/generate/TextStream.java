package io.stepslm.generate;

import java.util.Arrays;
import java.util.List;

/**
 * The text of a generation as it grows, token by token: holds back tokens that end inside a UTF-8 character (so a
 * half character is never shown) and text that could still be the beginning of a stop string (so a stop string is
 * never shown), and ends the text right before the first stop string it comes to contain.
 */
final class TextStream {

    /** A UTF-8 character has at most 4 bytes: more pending tokens than this cannot be completing one. */
    private static final int MAX_PENDING = 8;

    private final TokenDecoder decoder;
    private final List<String> stops;
    private final int longestStop;
    private int[] pending = new int[MAX_PENDING];
    private int pendingCount;
    private final StringBuilder held = new StringBuilder(); // decoded, not yet released (could begin a stop string)
    private final StringBuilder text = new StringBuilder(); // released
    private boolean stopped;

    TextStream(TokenDecoder decoder, List<String> stops) {
        this.decoder = decoder;
        this.stops = stops;
        this.longestStop = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Adds a token; returns the text released by it (often all of it, empty while something is held back). */
    String accept(int token) {
        if (stopped) {
            throw new IllegalStateException("the text already ended at a stop string");
        }
        pending[pendingCount++] = token;
        String decoded = decoder.decode(Arrays.copyOf(pending, pendingCount));
        if (decoded.endsWith("\uFFFD") && pendingCount < MAX_PENDING) {
            return ""; // a character cut in two: wait for the rest
        }
        pendingCount = 0;
        held.append(decoded);
        int cut = -1;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        String released;
        if (cut >= 0) {
            stopped = true;
            released = held.substring(0, cut);
            held.setLength(0);
        } else {
            int keep = heldBack();
            released = held.substring(0, held.length() - keep);
            held.delete(0, held.length() - keep);
        }
        text.append(released);
        return released;
    }

    /** Whether the text came to contain a stop string (it then ends right before it). */
    boolean stopped() {
        return stopped;
    }

    /**
     * Ends the text (no stop string can complete any more) and returns what was still held back; a character cut
     * off by the end of generation is left out rather than shown as a replacement character.
     */
    String finish() {
        if (stopped) {
            return "";
        }
        if (pendingCount > 0) {
            String decoded = decoder.decode(Arrays.copyOf(pending, pendingCount));
            pendingCount = 0;
            held.append(decoded.endsWith("\uFFFD") ? decoded.substring(0, decoded.length() - 1) : decoded);
        }
        String rest = held.toString();
        held.setLength(0);
        text.append(rest);
        return rest;
    }

    /** Every character released so far. */
    String text() {
        return text.toString();
    }

    /** Length of the longest suffix of {@code held} that is a proper prefix of some stop string. */
    private int heldBack() {
        int max = Math.min(held.length(), longestStop - 1);
        for (int len = max; len > 0; len--) {
            int from = held.length() - len;
            for (String s : stops) {
                if (s.length() > len && regionMatches(s, from, len)) {
                    return len;
                }
            }
        }
        return 0;
    }

    private boolean regionMatches(String stop, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (held.charAt(from + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
