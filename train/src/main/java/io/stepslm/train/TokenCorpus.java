package io.stepslm.train;

import io.stepslm.datasets.Document;
import io.stepslm.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;

/**
 * A corpus small enough to hold as token ids in memory (up to a few hundred MB of text), split by position like
 * nanoGPT's {@code prepare.py}: the first {@code 1 - f} of the token stream trains, the last {@code f} validates.
 * Documents are joined with the end-of-text id after each one (GPT-2's convention).
 *
 * @param validationBytes UTF-8 bytes of the validation text (end-of-text tokens excluded), for bits per byte
 */
public record TokenCorpus(int[] train, int[] validation, long validationBytes) {

    public static TokenCorpus split(Iterator<Document> documents, Tokenizer tokenizer, double validationFraction) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 1), got " + validationFraction + " (nanoGPT uses 0.1)");
        }
        int[] ids = new int[1 << 16];
        int n = 0;
        while (documents.hasNext()) {
            Document d = documents.next();
            int[] piece = tokenizer.encode(d.text());
            int need = n + piece.length + 1;
            if (need > ids.length) {
                if (need < 0 || need > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("the text is too large to train from memory (over 2^31 tokens)");
                }
                ids = Arrays.copyOf(ids, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(need, 2L * ids.length)));
            }
            System.arraycopy(piece, 0, ids, n, piece.length);
            n += piece.length;
            if (d.last()) {
                ids[n++] = tokenizer.endOfTextId();
            }
        }
        int cut = (int) (n * (1 - validationFraction));
        int[] train = Arrays.copyOfRange(ids, 0, cut);
        int[] validation = Arrays.copyOfRange(ids, cut, n);
        int eot = tokenizer.endOfTextId();
        int[] textIds = Arrays.stream(validation).filter(id -> id != eot).toArray();
        long bytes = tokenizer.decode(textIds).getBytes(StandardCharsets.UTF_8).length;
        return new TokenCorpus(train, validation, bytes);
    }

    /** UTF-8 bytes per validation token (bits per byte = loss / ln 2 / bytesPerToken). */
    public double bytesPerToken() {
        return validation.length == 0 ? 0 : (double) validationBytes / validation.length;
    }
}
