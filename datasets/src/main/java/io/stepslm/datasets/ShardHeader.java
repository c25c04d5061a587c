package io.stepslm.datasets;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The 256-byte little-endian header of a token shard, followed by {@code tokenCount} ids of {@code bytesPerToken}
 * bytes (uint16 when the vocabulary fits, else uint32). Like llm.c's {@code .bin} shards (a 256-int32 header with
 * magic and version, then uint16 tokens), but versioned with the tokenizer's fingerprint so a shard is never read
 * with another tokenizer.
 *
 * <pre>
 * offset size
 *   0     8  magic "STPSHARD"
 *   8     4  version (1)
 *  12     4  bytes per token (2 or 4)
 *  16     8  token count
 *  24     4  vocabulary size
 *  28     4  end-of-text id
 *  32     4  fingerprint length n (<= 200)
 *  36     n  tokenizer fingerprint, ASCII
 *  ...       zeros up to 256
 * </pre>
 */
public record ShardHeader(int version, int bytesPerToken, long tokenCount, int vocabSize, int endOfTextId,
        String fingerprint) {

    public static final int BYTES = 256;
    public static final int VERSION = 1;
    static final byte[] MAGIC = "STPSHARD".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_FINGERPRINT = 200;

    public ShardHeader {
        if (bytesPerToken != 2 && bytesPerToken != 4) {
            throw new IllegalArgumentException("bytes per token must be 2 or 4, got " + bytesPerToken);
        }
        if (tokenCount < 0) {
            throw new IllegalArgumentException("token count must be >= 0, got " + tokenCount);
        }
        if (fingerprint.length() > MAX_FINGERPRINT) {
            throw new IllegalArgumentException("tokenizer fingerprint longer than " + MAX_FINGERPRINT + " chars");
        }
    }

    /** uint16 holds ids 0..65535, so a vocabulary of up to 65536 ids fits (GPT-2's 50257 does). */
    public static int bytesPerToken(int vocabSize) {
        return vocabSize <= 65536 ? 2 : 4;
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(version).putInt(bytesPerToken).putLong(tokenCount).putInt(vocabSize).putInt(endOfTextId);
        byte[] fp = fingerprint.getBytes(StandardCharsets.US_ASCII);
        b.putInt(fp.length).put(fp);
        return b.position(0).limit(BYTES);
    }

    static ShardHeader read(FileChannel ch, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, b.position()) < 0) {
                throw new IOException(file + ": shorter than the " + BYTES
                        + "-byte shard header: the shard is truncated; re-run 'stepslm data prepare'");
            }
        }
        b.flip();
        byte[] magic = new byte[MAGIC.length];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IOException(file
                    + ": not a stepslm token shard (bad magic bytes): re-run 'stepslm data prepare'");
        }
        int version = b.getInt();
        if (version != VERSION) {
            throw new IOException(file + ": shard format version " + version + " is not supported (expected " + VERSION
                    + "): re-run 'stepslm data prepare' with this stepslm");
        }
        int bpt = b.getInt();
        long count = b.getLong();
        int vocab = b.getInt();
        int eot = b.getInt();
        int n = b.getInt();
        if (n < 0 || n > MAX_FINGERPRINT || (bpt != 2 && bpt != 4) || count < 0) {
            throw new IOException(file + ": the shard header is corrupt: re-run 'stepslm data prepare'");
        }
        byte[] fp = new byte[n];
        b.get(fp);
        return new ShardHeader(version, bpt, count, vocab, eot, new String(fp, StandardCharsets.US_ASCII));
    }
}
