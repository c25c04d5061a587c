package io.stepslm.datasets;

import io.stepslm.tokenizer.InputFiles;
import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Text sources to windows of token ids, in constant memory: files are read and decompressed on the caller's thread,
 * documents are tokenized on worker threads in order-preserving batches, joined with {@code <|endoftext|>} after
 * each document, cut into windows of T + 1 ids that overlap by one id (so every id is a target exactly once, as in
 * llm.c's DataLoader), and shuffled in blocks of {@link StreamingConfig#shuffleWindows()} windows.
 *
 * <p>Exact resume without storing buffers: the state records where the current shuffle block began (epoch, file,
 * document piece, token), the block's number (which seeds its permutation) and how many of its windows were
 * returned. Resuming re-reads that file up to the piece (reading, not tokenizing, what came before it), rebuilds the
 * block and skips the returned windows.
 */
public final class StreamingLoader implements WindowSource {

    static final String KIND = "stream";

    private record Cursor(long epoch, int source, long piece, int offset) {}

    /** Where a piece was read: the epoch, the file's place in that epoch's order, the piece's number in the file. */
    private record Where(long epoch, int source, long piece) {}

    private record Piece(long epoch, int source, long piece, int[] tokens) {}

    private final SourceSpec spec;
    private final Tokenizer tokenizer;
    private final StreamingConfig config;
    private final List<Path> files;
    private final String signature;
    private final long seed;
    private final DataReport report = new DataReport();
    private final SourceStats[] stats;
    private final TokenizePipeline<Where> pipeline;

    // reader (caller's thread)
    private long readEpoch;
    private int[] order;
    private int readSrc;
    private SourceFile file;
    private long readPiece;
    private boolean carrySelected;
    private int filesWithoutSelection;
    private long bytesClosed;

    // packer
    private Piece cur;
    private int curOff;
    private int firstOffset;
    private boolean haveCarry;
    private int carryToken;
    private Cursor carryCursor;
    private long tokensConsumed;

    // shuffle block
    private final int[][] block;
    private int[] perm = new int[0];
    private int blockLen;
    private int consumed;
    private long blockIndex;
    private boolean blockStarted;
    private Cursor blockStart;
    private int skipOnFirstBlock;

    private StreamingLoader(SourceSpec spec, Tokenizer tokenizer, StreamingConfig config,
            LoaderState state) throws IOException {
        this.spec = spec;
        this.tokenizer = tokenizer;
        this.config = config;
        this.files = InputFiles.resolve(spec.inputs());
        this.stats = new SourceStats[files.size()];
        for (int i = 0; i < files.size(); i++) {
            stats[i] = report.add(files.get(i).toString(), Files.size(files.get(i)));
        }
        this.signature = signature(files, spec, tokenizer, config);
        state.checkResumable(KIND, signature);
        this.seed = state.seed();
        this.block = new int[Math.max(1, config.shuffleWindows())][];
        this.pipeline = new TokenizePipeline<>(tokenizer, config.threads(), "stepslm-tokenize", this::nextJob);

        Cursor start = new Cursor(state.epoch(), state.source(), state.piece(), state.offset());
        blockIndex = state.block();
        skipOnFirstBlock = state.consumed();
        blockStart = start;
        firstOffset = start.offset();
        readEpoch = start.epoch();
        order = orderFor(readEpoch);
        if (start.source() >= order.length) {
            throw new IllegalArgumentException("the saved data position points at file " + start.source()
                    + " but the inputs have "
                    + order.length + " files: resume on the same data, or start the data position afresh");
        }
        readSrc = start.source();
        // Re-read (not tokenize) the pieces before the saved one, tracking which documents the split keeps.
        for (long k = 0; k < start.piece(); k++) {
            Document d = readDocument();
            if (d == null || readSrc != start.source()) {
                throw new IllegalArgumentException("the saved data position (file " + files.get(order[start.source()])
                        + ", piece "
                        + start.piece() + ") is past the end of that file: resume on the same data, or start afresh");
            }
            selected(d);
        }
    }

    /**
     * Opens a loader at {@code state}: {@link LoaderState#initial(long)} for a fresh start, or a state returned by
     * {@link #state()} of a loader on the same data, tokenizer and configuration.
     */
    public static StreamingLoader open(SourceSpec spec, Tokenizer tokenizer, StreamingConfig config,
            LoaderState state) throws IOException {
        return new StreamingLoader(spec, tokenizer, config, state);
    }

    static String signature(List<Path> files, SourceSpec spec, Tokenizer tokenizer,
            StreamingConfig config) throws IOException {
        MessageDigest md = Split.sha256();
        StringBuilder sb = new StringBuilder();
        for (Path f : files) {
            // names and sizes, not full paths: a corpus moved to another folder (or named relative to another working
            // directory) still resumes
            sb.append(f.getFileName()).append('\t').append(Files.size(f)).append('\n');
        }
        sb.append(spec.format()).append('|').append(spec.jsonField()).append('|').append(spec.onError()).append('|')
                .append(tokenizer.fingerprint()).append('|').append(config.blockSize()).append('|')
                .append(config.shuffleWindows()).append('|').append(config.cycle()).append('|').append(config.split())
                .append('|').append(config.part());
        return HexFormat.of().formatHex(md.digest(sb.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    }

    @Override
    public int windowLength() {
        return config.windowLength();
    }

    /** Per-source accounting of what this loader has read so far (later epochs add to the counts). */
    public DataReport report() {
        return report;
    }

    /** Raw bytes read from disk so far (compressed size for compressed files). */
    public long bytesRead() {
        return bytesClosed + (file == null ? 0 : file.bytesRead());
    }

    /** Token ids taken from the tokenized stream so far. */
    public long tokensRead() {
        return tokensConsumed;
    }

    @Override
    public boolean hasNext() {
        if (consumed < blockLen) {
            return true;
        }
        return buildBlock();
    }

    @Override
    public int[] next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the " + config.part().shortName()
                    + " stream is exhausted (it does not cycle)");
        }
        return block[perm[consumed++]];
    }

    @Override
    public LoaderState state() {
        if (!blockStarted) {
            return new LoaderState(LoaderState.VERSION, KIND, seed, blockStart.epoch(), blockStart.source(),
                    blockStart.piece(),
                    blockStart.offset(), blockIndex, skipOnFirstBlock, 0, signature);
        }
        if (consumed == blockLen && haveCarry) {
            Cursor c = carryCursor;
            return new LoaderState(LoaderState.VERSION, KIND, seed, c.epoch(), c.source(), c.piece(), c.offset(),
                    blockIndex + 1, 0, 0, signature);
        }
        return new LoaderState(LoaderState.VERSION, KIND, seed, blockStart.epoch(), blockStart.source(),
                blockStart.piece(),
                blockStart.offset(), blockIndex, consumed, 0, signature);
    }

    // ---- shuffle blocks ------------------------------------------------------------------------------------------

    private boolean buildBlock() {
        if (blockStarted) {
            if (blockLen == 0) {
                return false; // the stream ended
            }
            blockIndex++;
        }
        if (haveCarry) {
            blockStart = carryCursor;
        }
        blockStarted = true;
        int n = 0;
        while (n < block.length) {
            int[] w = buildWindow();
            if (w == null) {
                break;
            }
            block[n++] = w;
        }
        for (int i = n; i < block.length; i++) {
            block[i] = null;
        }
        blockLen = n;
        perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        if (config.shuffleWindows() > 1) {
            new SplitMix64(SplitMix64.mix(seed, blockIndex)).shuffle(perm);
        }
        consumed = Math.min(skipOnFirstBlock, n);
        skipOnFirstBlock = 0;
        return consumed < n;
    }

    /** The next window of T + 1 ids; its first id is the previous window's last. Null at the end of a finite stream. */
    private int[] buildWindow() {
        int len = config.windowLength();
        int[] w = new int[len];
        int i = 0;
        if (haveCarry) {
            w[0] = carryToken;
            i = 1;
        }
        Cursor last = carryCursor;
        while (i < len) {
            if (cur == null || curOff >= cur.tokens().length) {
                cur = nextPiece();
                if (cur == null) {
                    return null;
                }
                curOff = firstOffset;
                firstOffset = 0;
                tokensConsumed += Math.max(0, cur.tokens().length - curOff);
                continue;
            }
            if (i == len - 1) {
                last = new Cursor(cur.epoch(), cur.source(), cur.piece(), curOff);
            }
            w[i++] = cur.tokens()[curOff++];
        }
        haveCarry = true;
        carryToken = w[len - 1];
        carryCursor = last;
        return w;
    }

    // ---- tokenization pipeline -----------------------------------------------------------------------------------

    private Piece nextPiece() {
        try {
            while (true) {
                TokenizePipeline.Done<Where> d = pipeline.next();
                if (d == null) {
                    return null;
                }
                if (d.ids().length > 0) {
                    return new Piece(d.tag().epoch(), d.tag().source(), d.tag().piece(), d.ids());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** The next piece of the part this loader reads, for the pipeline; null at the end of a non-cycling stream. */
    private TokenizePipeline.Job<Where> nextJob() throws IOException {
        while (true) {
            Document d = readDocument();
            if (d == null) {
                return null;
            }
            if (selected(d)) {
                filesWithoutSelection = 0;
                return new TokenizePipeline.Job<>(new Where(readEpoch, readSrc, readPiece - 1), d,
                        stats[order[readSrc]]);
            }
        }
    }

    // ---- reading -------------------------------------------------------------------------------------------------

    private boolean selected(Document d) {
        if (d.piece() == 0) {
            carrySelected = config.split().partOf(d.source(), d.text()) == config.part();
        }
        return carrySelected;
    }

    /** The next document piece in epoch order, or null at the end of a non-cycling stream. */
    private Document readDocument() throws IOException {
        while (true) {
            if (file == null) {
                if (readSrc >= order.length) {
                    if (!config.cycle()) {
                        return null;
                    }
                    readEpoch++;
                    order = orderFor(readEpoch);
                    readSrc = 0;
                }
                if (filesWithoutSelection > files.size()) {
                    throw new IllegalArgumentException("no document of the inputs " + spec.inputs() + " falls in the "
                            + config.part().shortName() + " part of the split " + config.split()
                            + ": check the validation fraction or the validation file names");
                }
                file = new SourceFile(files.get(order[readSrc]), spec, stats[order[readSrc]]);
                readPiece = 0;
                filesWithoutSelection++;
            }
            Document d = file.next();
            if (d != null) {
                readPiece++;
                return d;
            }
            bytesClosed += file.bytesRead();
            file.close();
            file = null;
            readSrc++;
        }
    }

    /** File order of an epoch: sorted order, or with shuffling on a seeded permutation per epoch. */
    private int[] orderFor(long epoch) {
        int[] o = new int[files.size()];
        for (int i = 0; i < o.length; i++) {
            o[i] = i;
        }
        if (config.shuffleWindows() > 1 && config.cycle()) {
            new SplitMix64(SplitMix64.mix(seed ^ 0x5DEECE66DL, epoch)).shuffle(o);
        }
        return o;
    }

    @Override
    public void close() throws IOException {
        pipeline.close();
        if (file != null) {
            file.close();
            file = null;
        }
    }
}
