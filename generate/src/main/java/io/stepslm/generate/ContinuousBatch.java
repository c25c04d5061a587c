package io.stepslm.generate;

import io.stepslm.model.Decoder;
import io.stepslm.model.LanguageModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Continuous batching (as llama.cpp's server and vLLM): up to {@code capacity} sequences that join and leave
 * between decoding steps, each in its own {@link Slot} with its own decoder row and position, sampler and seed,
 * penalties and stop state, while every {@link #step()} advances all running slots together in one batched forward
 * pass. A slot's output is the same as generating its prompt alone with the same config.
 *
 * <p>Use: {@code join} a request (its prompt is prefilled and its first token chosen right away), call
 * {@code step()} while {@link #running()} is above 0, read each slot's {@link Slot#result()}. A slot leaves by
 * itself when it stops, or at once when {@link #release released} (client gone); its row is then free for the next
 * {@code join}. Tokens reach each slot's {@link TokenListener} on the calling thread as they are chosen.
 * Not thread-safe: one thread drives join, step and release. Close it before the model.
 */
public final class ContinuousBatch implements AutoCloseable {

    private final LanguageModel model;
    private final TokenDecoder decoder;
    private final Decoder rows;
    private final Slot[] slots; // by row; null = free
    private final int vocab;
    private final int context;

    /** A batch of {@code capacity} rows on {@code model}; {@code decoder} turns ids into text for stop strings. */
    public ContinuousBatch(LanguageModel model, TokenDecoder decoder, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("batch capacity " + capacity + " must be positive");
        }
        this.model = model;
        this.decoder = decoder;
        this.rows = model.newDecoder(capacity);
        this.slots = new Slot[capacity];
        this.vocab = model.config().vocabSize();
        this.context = model.config().contextLength();
    }

    /** Rows in all. */
    public int capacity() {
        return slots.length;
    }

    /** Slots running now (joined, not finished, not released). */
    public int running() {
        int n = 0;
        for (Slot s : slots) {
            n += s != null ? 1 : 0;
        }
        return n;
    }

    /** Whether a {@link #join} would find a free row. */
    public boolean hasFreeRow() {
        return running() < slots.length;
    }

    /** "fused" or "reference": the decoder path in use, for logs. */
    public String path() {
        return rows.path();
    }

    /**
     * Starts a sequence in a free row: checks the prompt (ids in the vocabulary, at least one), prefills its last
     * context-length tokens and chooses the first token (reported to {@code listener} before this returns). The
     * slot may already be finished (maxNewTokens 0, or the first token stopped it). Throws IllegalStateException
     * when every row is busy (wait for a step that finishes one, or release one).
     */
    public Slot join(int[] prompt, GenerationConfig config, TokenListener listener) {
        checkPrompt(prompt);
        for (int id : config.stopTokens()) {
            if (id >= vocab) {
                throw new IllegalArgumentException("stop token " + id + " is outside the model's vocabulary of "
                        + vocab + ": take stop ids from the model's tokenizer");
            }
        }
        int row = -1;
        for (int r = 0; r < slots.length && row < 0; r++) {
            row = slots[r] == null ? r : -1;
        }
        if (row < 0) {
            throw new IllegalStateException("all " + slots.length + " rows of the batch are busy: step until one "
                    + "finishes or release one before joining");
        }
        Slot slot = new Slot(row, prompt, config, listener, decoder, vocab, context);
        if (config.maxNewTokens() == 0) {
            slot.end(StopReason.LENGTH);
            return slot;
        }
        slots[row] = slot;
        long t0 = System.nanoTime();
        rows.reset(row);
        slot.accept(rows.prefill(row, slot.prompt()));
        slot.addPromptNanos(System.nanoTime() - t0);
        leaveIfFinished(slot);
        return slot;
    }

    /**
     * One decoding step for every running slot: all of them feed their latest token in one batched forward pass
     * (a slot whose row is full first shifts its context: it keeps the last half and prefills it again), then each
     * samples its next token. Returns the number of slots still running.
     */
    public int step() {
        long t0 = System.nanoTime();
        List<Slot> batch = new ArrayList<>(slots.length);
        for (Slot s : slots) {
            if (s == null) {
                continue;
            }
            if (s.needsShift(rows)) {
                long s0 = System.nanoTime();
                rows.reset(s.row());
                s.accept(rows.prefill(s.row(), s.keptAfterShift()));
                s.addDecodeNanos(System.nanoTime() - s0);
                leaveIfFinished(s);
            } else {
                batch.add(s);
            }
        }
        if (!batch.isEmpty()) {
            int[] r = new int[batch.size()];
            int[] tokens = new int[batch.size()];
            for (int i = 0; i < r.length; i++) {
                r[i] = batch.get(i).row();
                tokens[i] = batch.get(i).last();
            }
            float[][] logits = rows.step(r, tokens);
            for (int i = 0; i < r.length; i++) {
                batch.get(i).accept(logits[i]);
            }
            long dt = System.nanoTime() - t0;
            for (Slot s : batch) {
                s.addDecodeNanos(dt);
                leaveIfFinished(s);
            }
        }
        return running();
    }

    /** Ends a slot now (stop reason CANCELLED unless it had finished) and frees its row for the next join. */
    public void release(Slot slot) {
        slot.end(StopReason.CANCELLED);
        if (slots[slot.row()] == slot) {
            slots[slot.row()] = null;
        }
    }

    private void leaveIfFinished(Slot s) {
        if (s.finished()) {
            slots[s.row()] = null;
        }
    }

    private void checkPrompt(int[] prompt) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token (e.g. the end-of-text "
                    + "token to start a fresh document)");
        }
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt token " + id + " is outside the model's vocabulary of "
                        + vocab + ": was the prompt encoded with the tokenizer this model was trained with?");
            }
        }
    }

    /** The model this batch decodes with. */
    public LanguageModel model() {
        return model;
    }

    @Override
    public void close() {
        rows.close();
    }
}
