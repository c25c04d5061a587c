package io.stepslm.datasets;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/**
 * The position of a {@link WindowSource}, small enough to store as JSON in every training checkpoint. Nothing in it
 * is a buffer: the loaders are deterministic functions of (data, seed, counters), so counters are enough to rebuild
 * the shuffle buffer and the random offsets exactly.
 *
 * @param version format version of this record ({@link #VERSION})
 * @param kind which loader wrote it ({@code ""} for a fresh start, then {@code stream}, {@code shards-random} or
 *     {@code shards-sequential}); a state is refused by a loader of another kind
 * @param seed seed of every random choice (file order per epoch, shuffle permutations, random offsets)
 * @param epoch streaming: epoch of the first token of the current shuffle block; sequential shards: passes completed
 * @param source streaming: index, in the epoch's file order, of the file holding that token
 * @param piece streaming: index of the document piece within that file
 * @param offset streaming: index of that token within the piece's tokens (piece tokens, then end-of-text)
 * @param block streaming: number of shuffle blocks started so far (seeds the block's permutation)
 * @param consumed streaming: windows already returned from the current block
 * @param samples shards: windows returned so far (random sampling) or index of the next window (sequential)
 * @param signature what the data looked like (files, sizes, tokenizer, T): a resume on other data is refused
 */
public record LoaderState(
        int version,
        String kind,
        long seed,
        long epoch,
        int source,
        long piece,
        int offset,
        long block,
        int consumed,
        long samples,
        String signature) {

    public static final int VERSION = 1;

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    public LoaderState {
        if (version != VERSION) {
            throw new IllegalArgumentException("loader state version " + version + " is not supported (expected "
                    + VERSION + "): the checkpoint was written by another stepslm version; restart the data position "
                    + "with a fresh state");
        }
        if (kind == null || signature == null) {
            throw new IllegalArgumentException(
                    "loader state lacks 'kind' or 'signature': the checkpoint's data position is corrupt");
        }
        if (epoch < 0 || source < 0 || piece < 0 || offset < 0 || block < 0 || consumed < 0 || samples < 0) {
            throw new IllegalArgumentException("loader state has a negative counter: " + toJson());
        }
    }

    /** A fresh start with the given seed. */
    public static LoaderState initial(long seed) {
        return new LoaderState(VERSION, "", seed, 0, 0, 0, 0, 0, 0, 0, "");
    }

    /** True for a state from {@link #initial(long)}. */
    public boolean isInitial() {
        return kind.isEmpty();
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public static LoaderState fromJson(String json) {
        LoaderState state;
        try {
            state = GSON.fromJson(json, LoaderState.class);
        } catch (RuntimeException e) {
            // Gson wraps what the compact constructor throws: report the innermost reason.
            Throwable c = e;
            while (c.getCause() != null) {
                c = c.getCause();
            }
            throw new IllegalArgumentException("the data loader state is not valid (" + c.getMessage() + "): " + json,
                    e);
        }
        if (state == null) {
            throw new IllegalArgumentException(
                    "the data loader state is empty: store LoaderState.toJson() in the checkpoint");
        }
        return state;
    }

    LoaderState withSeed(long newSeed) {
        return new LoaderState(version, kind, newSeed, epoch, source, piece, offset, block, consumed, samples,
                signature);
    }

    /** Refuses a state written by another kind of loader or for other data. */
    void checkResumable(String expectedKind, String expectedSignature) {
        if (isInitial()) {
            return;
        }
        if (!kind.equals(expectedKind)) {
            throw new IllegalArgumentException("the saved data position is for a '" + kind
                    + "' loader but this run uses '" + expectedKind
                    + "': resume with the same data options as the checkpoint, or start the data position afresh");
        }
        if (!signature.equals(expectedSignature)) {
            throw new IllegalArgumentException("the saved data position was taken on other data (files, sizes, "
                    + "tokenizer or context length differ: saved " + signature + ", now " + expectedSignature
                    + "): resume on the same data, or start the data position afresh");
        }
    }
}
