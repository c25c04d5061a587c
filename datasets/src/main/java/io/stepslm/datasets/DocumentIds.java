package io.stepslm.datasets;

import io.stepslm.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Iterator;

/**
 * How documents become one stream of token ids, the same in every path (in-memory training, streaming, shards,
 * evaluation): each document's ids followed by {@code <|endoftext|>}, GPT-2's convention, which nanoGPT's and
 * llm.c's data scripts follow too. A long document arrives in pieces; only its last piece is followed by the token.
 */
public final class DocumentIds {

    private DocumentIds() {}

    /** The ids of one piece: its text encoded, then end-of-text when it is the last piece of its document. */
    public static int[] of(Document piece, Tokenizer tokenizer) {
        int[] ids = tokenizer.encode(piece.text());
        if (!piece.last()) {
            return ids;
        }
        int[] withEnd = Arrays.copyOf(ids, ids.length + 1);
        withEnd[ids.length] = tokenizer.endOfTextId();
        return withEnd;
    }

    /** All documents as one stream, each followed by end-of-text. */
    public static int[] join(Iterator<Document> documents, Tokenizer tokenizer) {
        int[] ids = new int[1 << 16];
        int n = 0;
        while (documents.hasNext()) {
            int[] piece = of(documents.next(), tokenizer);
            long need = (long) n + piece.length;
            if (need > ids.length) {
                if (need > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("the text is too large to hold in memory (over 2^31 tokens): "
                            + "prepare shards with 'stepslm data prepare' and train with --shards");
                }
                ids = Arrays.copyOf(ids, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(need, 2L * ids.length)));
            }
            System.arraycopy(piece, 0, ids, n, piece.length);
            n += piece.length;
        }
        return Arrays.copyOf(ids, n);
    }

    /**
     * {@code ids} after one end-of-text: in training every document follows one, so scoring a text gives its first
     * token that context too.
     */
    public static int[] afterEndOfText(int[] ids, Tokenizer tokenizer) {
        int[] out = new int[ids.length + 1];
        out[0] = tokenizer.endOfTextId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
