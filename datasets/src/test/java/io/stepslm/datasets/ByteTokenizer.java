package io.stepslm.datasets;

import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Test tokenizer: one id per UTF-8 byte, plus {@code base}, end-of-text after the 256 byte ids. Fast and exact to
 * reason about.
 */
final class ByteTokenizer implements Tokenizer {
    private final int base;

    private ByteTokenizer(int base) {
        this.base = base;
    }

    /** ids 0..255, end of text 256, vocabulary 257: uint16 shards. */
    static ByteTokenizer narrow() {
        return new ByteTokenizer(0);
    }

    /** ids 65536..65791, end of text 65792: uint32 shards. */
    static ByteTokenizer wide() {
        return new ByteTokenizer(65536);
    }

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = base + (b[i] & 0xff);
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        java.io.ByteArrayOutputStream run = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            if (id == endOfTextId()) {
                sb.append(run.toString(StandardCharsets.UTF_8)).append(END_OF_TEXT);
                run.reset();
            } else {
                run.write(id - base);
            }
        }
        return sb.append(run.toString(StandardCharsets.UTF_8)).toString();
    }

    @Override
    public int vocabSize() {
        return base + 257;
    }

    @Override
    public int endOfTextId() {
        return base + 256;
    }

    @Override
    public String fingerprint() {
        return "bytes-test-" + base;
    }

    @Override
    public void save(Path file) throws IOException {
        throw new UnsupportedOperationException("test tokenizer");
    }
}
