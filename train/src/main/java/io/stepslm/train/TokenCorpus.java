package io.stepslm.train;

import io.stepslm.datasets.Document;
import io.stepslm.datasets.DocumentIds;
import io.stepslm.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;

/**
 * A corpus small enough to hold as token ids in memory (up to a few hundred MB of text), split by position like
 * nanoGPT's {@code prepare.py}: the first {@code 1 - f} of the token stream trains, the last {@code f} validates.
 * Documents are joined by {@link DocumentIds#join}.
 *
 * @param validationBytes UTF-8 bytes of the validation text (end-of-text tokens excluded), for bits per byte
 */
public record TokenCorpus(int[] train, int[] validation, long validationBytes) {

    public static TokenCorpus split(Iterator<Document> documents, Tokenizer tokenizer, double validationFraction) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 1), got " + validationFraction
                    + " (nanoGPT uses 0.1)");
        }
        int[] ids = DocumentIds.join(documents, tokenizer);
        int n = ids.length;
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
