package io.stepslm.train;

import java.util.ArrayList;
import java.util.List;

/**
 * How a sequence of {@code n} tokens is cut into model windows for perplexity, so that every token after the first
 * is scored exactly once with as much left context as allowed (HuggingFace "Perplexity of fixed-length models",
 * strided sliding window). Window k reads inputs {@code [begin, begin + length)} and predicts targets
 * {@code [begin + 1, begin + length]}; only targets at relative positions {@code >= scoreFrom} are counted, the
 * others were already scored by an earlier window with less context.
 */
public final class SlidingWindows {

    /** One window: inputs start at {@code begin}, {@code length} inputs, targets from position {@code scoreFrom}. */
    public record Window(int begin, int length, int scoreFrom) {
        public int scored() {
            return length - scoreFrom;
        }
    }

    private SlidingWindows() {}

    public static List<Window> plan(int n, int context, int stride) {
        if (context <= 0 || stride <= 0 || stride > context) {
            throw new IllegalArgumentException("need 0 < stride <= context, got context " + context
                    + " and stride " + stride
                    + ": a stride larger than the context would leave tokens unscored");
        }
        List<Window> windows = new ArrayList<>();
        int targets = n - 1; // targets are tokens 1..n-1
        int scoredUpTo = 0;  // targets 1..scoredUpTo are done
        for (int begin = 0; scoredUpTo < targets; begin += stride) {
            int length = Math.min(context, targets - begin);
            int lastTarget = begin + length;
            int scoreFrom = scoredUpTo - begin; // relative index of the first new target minus one
            windows.add(new Window(begin, length, Math.max(0, scoreFrom)));
            scoredUpTo = lastTarget;
        }
        return windows;
    }
}
