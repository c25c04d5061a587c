package io.stepslm.serve;

import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.TokenLogprobs;

/**
 * Runs generations on a fixed number of slots with a bounded queue in front: the server and the chat loop see only
 * this, so the decoding strategy can change behind it. Implementations are thread-safe.
 */
public interface Engine extends AutoCloseable {

    /**
     * Queues one generation after {@code prompt} as {@code config} says (tokens, sampling, stops, log-probs).
     * Events go to {@code listener} on an engine thread, in order, ending with exactly one {@link Listener#onEnd}.
     * Throws {@link QueueFullException} when every slot is busy and the queue is full.
     */
    Ticket submit(int[] prompt, GenerationConfig config, Listener listener);

    /** Number of slots (generations that run at the same time). */
    int slots();

    /** Generations admitted at most at once: slots plus queue places. */
    int capacity();

    /** Slots generating right now. */
    int busySlots();

    /** Generations waiting for a slot. */
    int queued();

    /** Stops taking work, waits up to {@code graceMillis} for running generations, then cuts them. */
    void shutdown(long graceMillis);

    @Override
    default void close() {
        shutdown(0);
    }

    /** Why a generation ended. */
    enum Finish {
        /** a stop token or a stop string */
        STOP,
        /** max_tokens reached */
        LENGTH,
        /** cancelled by the caller (client gone, Ctrl-C) */
        CANCELLED,
        /** the server is shutting down */
        SHUTDOWN,
        /** the generation failed; the message says why */
        ERROR
    }

    /** Receives a generation's tokens as they are chosen; must return quickly (it runs on the decoding thread). */
    interface Listener {
        /**
         * @param token    the chosen id
         * @param text     the text that became final with it (empty while a partial character or a possible start
         *                 of a stop string is held back; the held text comes with a later token or the last one)
         * @param logprobs its log-probabilities, when the config asked for them
         */
        void onToken(int token, String text, TokenLogprobs logprobs);

        void onEnd(Finish finish, String message);
    }

    /** A submitted generation. */
    interface Ticket {
        /** Ends the generation before its next token (or before it starts); it ends with {@link Finish#CANCELLED}. */
        void cancel();
    }

    /** Every slot is busy and the queue is full: try again later (HTTP 503 with Retry-After). */
    final class QueueFullException extends RuntimeException {
        public QueueFullException(String message) {
            super(message);
        }
    }
}
