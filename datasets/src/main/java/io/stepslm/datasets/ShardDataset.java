package io.stepslm.datasets;

import io.stepslm.tokenizer.Tokenizer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A prepared dataset: {@code manifest.json} and memory-mapped token shards. Each side of the split is read as one
 * long stream of ids (its shards in order), either sampled at random offsets like nanoGPT's {@code get_batch}
 * ({@link #sampler}) or cut in order into windows overlapping by one id ({@link #sequential}). Opening checks the
 * manifest against every shard's size and header, and refuses shards written by another tokenizer.
 */
public final class ShardDataset implements Closeable {

    private final Path dir;
    private final Manifest manifest;
    private final Map<Split.Part, Stream> parts = new EnumMap<>(Split.Part.class);

    /** One side of the split: its shards as mapped buffers and their cumulative token offsets. */
    private static final class Stream {
        final List<ShortBuffer> shorts = new ArrayList<>();
        final List<IntBuffer> ints = new ArrayList<>();
        final List<Long> starts = new ArrayList<>();
        long tokens;
    }

    private ShardDataset(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    /**
     * Opens the dataset in {@code dir} for reading with {@code tokenizer}; a dataset written by another tokenizer is
     * refused.
     */
    public static ShardDataset open(Path dir, Tokenizer tokenizer) throws IOException {
        return open(dir, tokenizer.fingerprint());
    }

    /** As {@link #open(Path, Tokenizer)}, given the expected tokenizer fingerprint. */
    public static ShardDataset open(Path dir, String tokenizerFingerprint) throws IOException {
        Manifest m = Manifest.read(dir);
        if (!m.tokenizerFingerprint().equals(tokenizerFingerprint)) {
            throw new IllegalArgumentException(dir + " was tokenized by another tokenizer (fingerprint "
                    + m.tokenizerFingerprint() + ", this one is " + tokenizerFingerprint
                    + "): use the tokenizer it was prepared with, or re-run 'stepslm data prepare' with this one");
        }
        ShardDataset ds = new ShardDataset(dir, m);
        for (Split.Part p : Split.Part.values()) {
            ds.parts.put(p, new Stream());
        }
        long[] perPart = new long[Split.Part.values().length];
        for (Manifest.ShardEntry s : m.shards()) {
            Split.Part part = partNamed(s.part(), dir);
            ds.map(s, part);
            perPart[part.ordinal()] += s.tokens();
        }
        for (Split.Part p : Split.Part.values()) {
            if (m.part(p).tokens() != perPart[p.ordinal()]) {
                throw new IOException(dir + ": the manifest counts " + m.part(p).tokens() + " " + p.shortName()
                        + " tokens but its shards hold " + perPart[p.ordinal()]
                        + ": the manifest does not match its shards; re-run 'stepslm data prepare'");
            }
        }
        return ds;
    }

    private static Split.Part partNamed(String name, Path dir) throws IOException {
        for (Split.Part p : Split.Part.values()) {
            if (p.shortName().equals(name)) {
                return p;
            }
        }
        throw new IOException(dir + ": the manifest names an unknown split part '" + name
                + "': re-run 'stepslm data prepare'");
    }

    private void map(Manifest.ShardEntry s, Split.Part part) throws IOException {
        Path file = dir.resolve(s.file()).normalize();
        if (!file.startsWith(dir.normalize()) || !Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "a shard listed in " + Manifest.FILE_NAME
                    + " is missing: the manifest does not match its shards; re-run 'stepslm data prepare'");
        }
        long size = Files.size(file);
        if (size != s.bytes()) {
            throw new IOException(file + ": " + size + " bytes on disk but " + s.bytes()
                    + " in the manifest: the shard is truncated or was replaced; re-run 'stepslm data prepare'");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ShardHeader h = ShardHeader.read(ch, file);
            String problem = null;
            if (!h.fingerprint().equals(manifest.tokenizerFingerprint())) {
                problem = "was written by another tokenizer (" + h.fingerprint() + ") than the manifest names";
            } else if (h.tokenCount() != s.tokens()) {
                problem = "holds " + h.tokenCount() + " tokens but the manifest says " + s.tokens();
            } else if (h.bytesPerToken() != manifest.bytesPerToken()) {
                problem = "stores " + h.bytesPerToken() + "-byte ids but the manifest says " + manifest.bytesPerToken();
            } else if (ShardHeader.BYTES + h.tokenCount() * h.bytesPerToken() != size) {
                problem = "has " + size + " bytes, not the header's "
                        + (ShardHeader.BYTES + h.tokenCount() * h.bytesPerToken());
            }
            if (problem != null) {
                throw new IOException(file + " " + problem
                        + ": the manifest does not match its shards; re-run 'stepslm data prepare'");
            }
            Stream st = parts.get(part);
            MappedByteBuffer mb = ch.map(FileChannel.MapMode.READ_ONLY, ShardHeader.BYTES, size - ShardHeader.BYTES);
            mb.order(ByteOrder.LITTLE_ENDIAN);
            if (h.bytesPerToken() == 2) {
                st.shorts.add(mb.asShortBuffer());
            } else {
                st.ints.add(mb.asIntBuffer());
            }
            st.starts.add(st.tokens);
            st.tokens += h.tokenCount();
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    public Path dir() {
        return dir;
    }

    public long tokens(Split.Part part) {
        return parts.get(part).tokens;
    }

    /**
     * Recomputes every shard's SHA-256 and compares it with the manifest (reads all data; for
     * {@code stepslm data info --verify}).
     */
    public void verifyChecksums() throws IOException {
        for (Manifest.ShardEntry s : manifest.shards()) {
            String actual = ShardWriter.sha256(dir.resolve(s.file()));
            if (!actual.equals(s.sha256())) {
                throw new IOException(dir.resolve(s.file()) + ": SHA-256 " + actual + " differs from the manifest's "
                        + s.sha256() + ": the shard is damaged; re-run 'stepslm data prepare'");
            }
        }
    }

    /** Copies {@code dst.length} ids starting at {@code pos} of a part's stream (crossing shard boundaries). */
    void read(Split.Part part, long pos, int[] dst) {
        Stream st = parts.get(part);
        int filled = 0;
        int shard = shardOf(st, pos);
        long inShard = pos - st.starts.get(shard);
        short[] tmp = st.shorts.isEmpty() ? null : new short[dst.length];
        while (filled < dst.length) {
            long shardEnd = shard + 1 < st.starts.size() ? st.starts.get(shard + 1) : st.tokens;
            long shardLen = shardEnd - st.starts.get(shard);
            int n = (int) Math.min(dst.length - filled, shardLen - inShard);
            if (tmp != null) {
                st.shorts.get(shard).get((int) inShard, tmp, 0, n);
                for (int i = 0; i < n; i++) {
                    dst[filled + i] = tmp[i] & 0xFFFF; // uint16
                }
            } else {
                st.ints.get(shard).get((int) inShard, dst, filled, n);
            }
            filled += n;
            shard++;
            inShard = 0;
        }
    }

    private static int shardOf(Stream st, long pos) {
        int lo = 0;
        int hi = st.starts.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (st.starts.get(mid) <= pos) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    String signature(Split.Part part, int blockSize, String mode) {
        StringBuilder sb = new StringBuilder(manifest.tokenizerFingerprint())
                .append('|').append(part).append('|').append(blockSize).append('|').append(mode);
        for (Manifest.ShardEntry s : manifest.shards()) {
            sb.append('|').append(s.file()).append(':').append(s.tokens()).append(':').append(s.sha256());
        }
        byte[] digest = Split.sha256().digest(sb.toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest).substring(0, 16);
    }

    private void requireTokens(Split.Part part, int blockSize) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("context length T must be >= 1, got " + blockSize);
        }
        if (tokens(part) < blockSize + 1L) {
            throw new IllegalArgumentException(dir + " has " + tokens(part) + " " + part.shortName()
                    + " tokens, fewer than one window of T + 1 = " + (blockSize + 1)
                    + ": lower the context length, or prepare more data (or a larger validation fraction)");
        }
    }

    /**
     * Windows at uniformly random offsets, forever: the k-th window starts at a position drawn from
     * SplitMix64(seed, k) in [0, tokens - T - 1], as nanoGPT draws {@code torch.randint(len(data) - block_size)}.
     * The state is the count k, so resume is exact and free.
     */
    public WindowSource sampler(Split.Part part, int blockSize, LoaderState state) {
        requireTokens(part, blockSize);
        String kind = "shards-random";
        String sig = signature(part, blockSize, kind);
        state.checkResumable(kind, sig);
        long starts = tokens(part) - blockSize;
        return new WindowSource() {
            long k = state.samples();

            @Override
            public int windowLength() {
                return blockSize + 1;
            }

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public int[] next() {
                long pos = SplitMix64.below(SplitMix64.mix(state.seed(), k), starts,
                        new SplitMix64(SplitMix64.mix(~state.seed(), k)));
                k++;
                int[] w = new int[blockSize + 1];
                read(part, pos, w);
                return w;
            }

            @Override
            public LoaderState state() {
                return new LoaderState(LoaderState.VERSION, kind, state.seed(), 0, 0, 0, 0, 0, 0, k, sig);
            }

            @Override
            public void close() {
                // the mapping belongs to the dataset
            }
        };
    }

    /**
     * Windows in order: window j holds ids [j T, j T + T] of the part's stream, so consecutive windows share one id
     * and every id after the first is a target once. {@code cycle} restarts at the beginning (training); otherwise
     * the source ends after {@code (tokens - 1) / T} windows (validation).
     */
    public WindowSource sequential(Split.Part part, int blockSize, boolean cycle, LoaderState state) {
        requireTokens(part, blockSize);
        String kind = "shards-sequential";
        String sig = signature(part, blockSize, kind + cycle);
        state.checkResumable(kind, sig);
        long perPass = (tokens(part) - 1) / blockSize;
        return new WindowSource() {
            long j = state.samples();

            @Override
            public int windowLength() {
                return blockSize + 1;
            }

            @Override
            public boolean hasNext() {
                return cycle || j < perPass;
            }

            @Override
            public int[] next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException("the " + part.shortName() + " shards are exhausted ("
                            + perPass + " windows)");
                }
                int[] w = new int[blockSize + 1];
                read(part, (j % perPass) * blockSize, w);
                j++;
                return w;
            }

            @Override
            public LoaderState state() {
                return new LoaderState(LoaderState.VERSION, kind, state.seed(), j / perPass, 0, 0, 0, 0, 0, j, sig);
            }

            @Override
            public void close() {
                // the mapping belongs to the dataset
            }
        };
    }

    /** Windows per pass of {@link #sequential} for a part (the size of a full validation pass). */
    public long windowsPerPass(Split.Part part, int blockSize) {
        requireTokens(part, blockSize);
        return (tokens(part) - 1) / blockSize;
    }

    @Override
    public void close() {
        // Mapped buffers are unmapped by the garbage collector; nothing else is held open.
        parts.clear();
    }
}
