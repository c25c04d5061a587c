package io.stepslm.train;

import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** UTF-8 bytes as ids 0..255 plus end-of-text 256: a tokenizer that needs no training, for tests of the loop. */
final class ByteTestTokenizer implements Tokenizer {

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id < 256) {
                b[n++] = (byte) id;
            }
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return 257;
    }

    @Override
    public int endOfTextId() {
        return 256;
    }

    @Override
    public String fingerprint() {
        return "bytes-test";
    }

    @Override
    public void save(Path file) throws IOException {
        Files.writeString(file, "{\"test\": \"bytes\"}");
    }
}
