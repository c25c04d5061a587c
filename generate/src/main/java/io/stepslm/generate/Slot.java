package io.stepslm.generate;

import io.stepslm.model.Decoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One sequence of a {@link ContinuousBatch}: its decoder row, sampler, stop state and output. Created by
 * {@link ContinuousBatch#join}; read its progress with {@link #finished()} and {@link #result()}.
 */
public final class Slot {

    private final int row;
    private final GenerationConfig config;
    private final TokenListener listener;
    private final Sampler sampler;
    private final TextStream text;
    private final int context;
    private final int promptTokens;
    private int[] window; // the latest tokens of prompt and output, for a context shift
    private int windowLength;
    private int[] tokens = new int[64];
    private int produced;
    private final List<TokenLogprobs> logprobs = new ArrayList<>();
    private StopReason stopReason; // null while running
    private long promptNanos;
    private long decodeNanos;

    Slot(int row, int[] prompt, GenerationConfig config, TokenListener listener, TokenDecoder decoder, int vocab,
         int context) {
        this.row = row;
        this.config = config;
        this.listener = listener;
        this.context = context;
        this.sampler = new Sampler(config.sampling(), vocab, context);
        this.text = new TextStream(decoder, config.stopStrings());
        int keep = Math.min(prompt.length, context);
        this.promptTokens = keep;
        this.window = new int[2 * context];
        System.arraycopy(prompt, prompt.length - keep, window, 0, keep);
        this.windowLength = keep;
        for (int i = prompt.length - keep; i < prompt.length; i++) {
            sampler.observePrompt(prompt[i]);
        }
    }

    /** The decoder row this slot occupies while it runs (free again once it has finished). */
    public int row() {
        return row;
    }

    public boolean finished() {
        return stopReason != null;
    }

    /** The output so far; final once {@link #finished()} (stop reason LENGTH while it is still running). */
    public Generation result() {
        return new Generation(Arrays.copyOf(tokens, produced), text.text(), stopReason == null ? StopReason.LENGTH
                : stopReason, promptTokens, List.copyOf(logprobs), promptNanos, decodeNanos);
    }

    public GenerationConfig config() {
        return config;
    }

    /** The prompt tokens to prefill (the last context-length ones). */
    int[] prompt() {
        return Arrays.copyOf(window, windowLength);
    }

    /** The token to feed next: the one chosen last. */
    int last() {
        return window[windowLength - 1];
    }

    /** After a context shift: the kept last half of the window, to prefill again. */
    int[] keptAfterShift() {
        int keep = context / 2;
        return Arrays.copyOfRange(window, windowLength - keep, windowLength);
    }

    /** Samples from the logits after the latest token, reports it, and checks every stop condition. */
    void accept(float[] logits) {
        float[] raw = config.logprobs() >= 0 ? logits.clone() : null;
        int token = sampler.sample(logits);
        TokenLogprobs lp = raw != null ? Sampler.logprobs(raw, token, config.logprobs())
                : TokenLogprobs.none(token);
        if (produced == tokens.length) {
            tokens = Arrays.copyOf(tokens, 2 * produced);
        }
        tokens[produced++] = token;
        if (raw != null) {
            logprobs.add(lp);
        }
        if (windowLength == window.length) {
            System.arraycopy(window, windowLength - context, window, 0, context);
            windowLength = context;
        }
        window[windowLength++] = token;
        boolean stopToken = config.stopTokens().contains(token);
        String released = stopToken ? "" : text.accept(token);
        if (stopToken) {
            stopReason = StopReason.STOP_TOKEN;
        } else if (text.stopped()) {
            stopReason = StopReason.STOP_STRING;
        } else if (produced >= config.maxNewTokens()) {
            stopReason = StopReason.LENGTH;
        }
        if (stopReason != null) {
            released += text.finish();
        }
        listener.onToken(token, released, lp);
    }

    /**
     * Ends a slot before its first token (maxNewTokens 0) or when the caller releases it; text still held back
     * goes into the result only (the listener hears nothing more).
     */
    void end(StopReason reason) {
        if (stopReason == null) {
            stopReason = reason;
            text.finish();
        }
    }

    void addPromptNanos(long nanos) {
        promptNanos += nanos;
    }

    void addDecodeNanos(long nanos) {
        decodeNanos += nanos;
    }

    boolean needsShift(Decoder decoder) {
        return decoder.position(row) == decoder.capacity();
    }
}
