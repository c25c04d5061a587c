package io.stepslm.tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;

/**
 * Learns a byte-level BPE (GPT-2 style) from a stream of texts.
 *
 * <ol>
 *   <li><b>Count pre-tokens on all cores.</b> Texts are gathered into batches, cut into ~256K-character pieces at
 *       places no pre-token spans ({@link CorpusFiles#safeCut}), and each piece is split and counted in parallel;
 *       special tokens are cut out first and never counted. Memory is one batch plus one entry per distinct
 *       pre-token.</li>
 *   <li><b>Merge.</b> Each distinct pre-token is an int array of byte ids with a count. Pair counts live in a
 *       primitive hash map keyed by {@code left << 32 | right}; a max-heap holds (count, pair) with lazy
 *       invalidation (a popped entry whose count is stale is pushed back with the current count); an index from
 *       each pair to the words that contain it means a merge touches only those words, never the whole corpus.</li>
 * </ol>
 *
 * <p><b>Tie-break</b> (deterministic, independent of thread scheduling): the pair with the highest count wins; among
 * equal counts the smaller (left id, right id), compared left first. This is the order of HuggingFace's BpeTrainer
 * ({@code Merge::cmp} in tokenizers/src/models/bpe/trainer.rs), whose byte alphabet is also sorted by code point; as in
 * HuggingFace, a merge whose result string already exists reuses that id. Given the same pre-token counts the merges
 * are identical to HuggingFace's ({@code HfTrainerParityTest}); note that HuggingFace's {@code train(files)} reads
 * files line by line, so it never sees a whitespace pre-token that spans a newline ("\n\n"), while
 * {@link #train(List)} splits whole files exactly as encoding does (pass lines to {@link #train(Iterator)} to
 * reproduce HuggingFace's merges on a file). Ids: 0..255 the byte tokens in GPT-2's
 * order, then merges, then the special tokens (GPT-2 puts {@code <|endoftext|>} last as well; HuggingFace's trainer
 * puts specials first, so its ids are shifted by the number of specials).
 */
public final class BpeTrainer {

    /** What one training run saw and did. */
    public record Stats(long bytes, long pretokens, int distinctPretokens, long invalidUtf8Replaced, int merges,
                        Duration countTime, Duration mergeTime, String stopReason) {}

    /** A trained tokenizer with its statistics. */
    public record Result(BpeTokenizer tokenizer, Stats stats) {}

    private static final int PIECE_CHARS = 1 << 18;
    private static final long BATCH_CHARS = 1L << 22;
    private static final String[] ALPHABET = ByteLevel.alphabet();
    /** Id of each byte value: its character's rank in code point order (GPT-2's ids 0..255). */
    private static final int[] BYTE_ID = new int[256];

    static {
        for (int b = 0; b < 256; b++) {
            BYTE_ID[b] = Arrays.binarySearch(ALPHABET, String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
        }
    }

    private final BpeTrainerConfig config;
    private final PrintStream progress;
    private final boolean showProgress;

    /** A trainer that reports nothing while it runs. */
    public BpeTrainer(BpeTrainerConfig config) {
        this(config, System.err, false);
    }

    /** A trainer that draws progress bars on {@code progress} (e.g. System.err) for long runs. */
    public static BpeTrainer withProgress(BpeTrainerConfig config, PrintStream progress) {
        return new BpeTrainer(config, progress, true);
    }

    private BpeTrainer(BpeTrainerConfig config, PrintStream progress, boolean showProgress) {
        this.config = config;
        this.progress = progress;
        this.showProgress = showProgress;
    }

    /**
     * What the caller of {@link #train(Iterator, Reading)} knows about its reading: the bytes in all and so far, for
     * the progress bar, and the invalid UTF-8 it repaired, for the statistics (asked once the texts are exhausted).
     */
    public interface Reading {
        /** Nothing known: no progress bar, no repairs counted. */
        Reading NONE = new Reading() {
            public long totalBytes() {
                return 0;
            }

            public long bytesRead() {
                return 0;
            }

            public long invalidUtf8Replaced() {
                return 0;
            }
        };

        long totalBytes();

        long bytesRead();

        long invalidUtf8Replaced();
    }

    /** Trains on UTF-8 text files, folders and globs (read in blocks; invalid UTF-8 is replaced and counted). */
    public Result train(List<Path> inputs) throws IOException {
        CorpusFiles corpus = CorpusFiles.of(inputs);
        long start = System.nanoTime();
        Batches batches = new Batches();
        try (ProgressBar bar = bar("reading", corpus.totalBytes() >> 10, "KB")) {
            corpus.forEachBlock(config.specialTokens(), block -> {
                batches.add(block);
                if (bar != null) {
                    bar.stepTo(corpus.bytesRead() >> 10);
                }
            });
            batches.flush();
        }
        if (batches.counts.words.isEmpty()) {
            throw new IllegalArgumentException("the corpus " + corpus.files()
                    + " is empty (no text outside special tokens): "
                    + "pass files that contain text");
        }
        return merge(batches.counts, corpus.invalidSequences(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** Trains on texts from any source (documents, lines, a database cursor...); each string is one text. */
    public Result train(Iterator<String> texts) {
        return train(texts, Reading.NONE);
    }

    /**
     * Trains on texts read by the caller (the CLI reads files through the datasets module, so that tokenizer training
     * takes the same inputs and formats as data preparation), with a progress bar over what {@code reading} reports.
     */
    public Result train(Iterator<String> texts, Reading reading) {
        long start = System.nanoTime();
        Batches batches = new Batches();
        try (ProgressBar bar = bar("reading", reading.totalBytes() >> 10, "KB")) {
            while (texts.hasNext()) {
                batches.add(texts.next());
                if (bar != null) {
                    bar.stepTo(Math.min(reading.bytesRead(), reading.totalBytes()) >> 10);
                }
            }
            batches.flush();
        }
        if (batches.counts.words.isEmpty()) {
            throw new IllegalArgumentException("the training texts are empty (no text outside special tokens): pass a "
                    + "non-empty corpus");
        }
        return merge(batches.counts, reading.invalidUtf8Replaced(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** Texts gathered into batches of about {@link #BATCH_CHARS} chars, each counted on all cores. */
    private final class Batches {
        final Counts counts = new Counts();
        private final List<String> batch = new ArrayList<>();
        private long chars;

        void add(String text) {
            batch.add(text);
            chars += text.length();
            if (chars >= BATCH_CHARS) {
                flush();
            }
        }

        void flush() {
            counts.add(batch);
            batch.clear();
            chars = 0;
        }
    }

    /** Distinct pre-tokens (as byte-level strings' UTF-8 source) with their counts. */
    private final class Counts {
        final HashMap<String, long[]> words = new HashMap<>();
        long pretokens;
        long bytes;

        void add(List<String> texts) {
            List<String> pieces = new ArrayList<>();
            SpecialTokens specials = new SpecialTokens(config.specialTokens());
            for (String text : texts) {
                SpecialTokens.Cursor cursor = specials.cursor(text);
                int pos = 0;
                while (true) {
                    boolean found = specials.size() > 0 && cursor.find(pos);
                    int end = found ? cursor.start : text.length();
                    cut(text, pos, end, pieces);
                    if (!found) {
                        break;
                    }
                    pos = cursor.end();
                }
            }
            List<Map<String, long[]>> partial = pieces.parallelStream().map(this::countPiece).toList();
            for (Map<String, long[]> m : partial) {
                for (Map.Entry<String, long[]> e : m.entrySet()) {
                    long[] c = words.get(e.getKey());
                    if (c == null) {
                        words.put(e.getKey(), e.getValue());
                    } else {
                        c[0] += e.getValue()[0];
                    }
                    pretokens += e.getValue()[0];
                }
            }
            for (String p : pieces) {
                bytes += utf8Length(p);
            }
        }

        private void cut(String text, int from, int to, List<String> pieces) {
            while (to - from > PIECE_CHARS) {
                int cut = CorpusFiles.safeCut(text.subSequence(from, to), PIECE_CHARS);
                if (cut == 0) {
                    break;
                }
                pieces.add(text.substring(from, from + cut));
                from += cut;
            }
            if (to > from) {
                pieces.add(text.substring(from, to));
            }
        }

        private Map<String, long[]> countPiece(String s) {
            HashMap<String, long[]> m = new HashMap<>();
            SplitPattern pattern = config.pattern();
            for (int i = 0; i < s.length(); ) {
                int e = pattern.next(s, i, s.length());
                m.computeIfAbsent(s.substring(i, e), k -> new long[1])[0]++;
                i = e;
            }
            return m;
        }
    }

    private Result merge(Counts counts, long invalid, Duration countTime) {
        long start = System.nanoTime();
        int n = counts.words.size();
        int[][] words = new int[n][];
        long[] wordCount = new long[n];
        int w = 0;
        for (Map.Entry<String, long[]> e : counts.words.entrySet()) {
            byte[] utf8 = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] sym = new int[utf8.length];
            for (int i = 0; i < utf8.length; i++) {
                sym[i] = BYTE_ID[utf8[i] & 0xFF];
            }
            words[w] = sym;
            wordCount[w++] = e.getValue()[0];
        }
        counts.words.clear();

        // initial pair counts and the pair -> words index
        PairTable pairCount = new PairTable(1 << 16);
        PairTable pairSlot = new PairTable(1 << 16);
        List<IntList> wordsOf = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] sym = words[i];
            for (int k = 0; k + 1 < sym.length; k++) {
                long key = PairTable.key(sym[k], sym[k + 1]);
                pairCount.add(key, wordCount[i]);
                index(pairSlot, wordsOf, key, i);
            }
        }
        PairHeap heap = new PairHeap(pairCount.size());
        pairCount.forEach((key, count) -> heap.push(count, key));

        List<String> vocab = new ArrayList<>(Arrays.asList(ALPHABET));
        HashMap<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < 256; i++) {
            ids.put(ALPHABET[i], i);
        }
        List<int[]> merges = new ArrayList<>();
        int targetTokens = config.vocabSize() - config.specialTokens().size();
        int[] seen = new int[n];
        Arrays.fill(seen, -1);
        long[] touched = new long[64];
        String stop = "reached the vocabulary size";
        int step = 0;
        try (ProgressBar bar = bar("merges", targetTokens - 256, "")) {
            while (vocab.size() < targetTokens) {
                if (heap.isEmpty()) {
                    stop = "no pairs left to merge (the corpus is too small for this vocabulary)";
                    break;
                }
                long pair = heap.topPair();
                long count = heap.topCount();
                heap.pop();
                long current = Math.max(0, pairCount.get(pair));
                if (current != count) {
                    if (current > 0) {
                        heap.push(current, pair);
                    }
                    continue;
                }
                if (count < Math.max(1, config.minFrequency())) {
                    stop = "no pair occurs at least " + config.minFrequency() + " times (the minimum frequency)";
                    break;
                }
                int left = (int) (pair >>> 32);
                int right = (int) pair;
                String merged = vocab.get(left) + vocab.get(right);
                Integer existing = ids.get(merged);
                int id;
                if (existing != null) {
                    id = existing;
                } else {
                    id = vocab.size();
                    vocab.add(merged);
                    ids.put(merged, id);
                }
                merges.add(new int[] {left, right});

                // apply the merge to the words that contain the pair, updating pair counts by difference
                int touchedCount = 0;
                IntList list = wordsOf.get((int) pairSlot.get(pair));
                int[] candidates = list.toArray();
                for (int wi : candidates) {
                    if (seen[wi] == step) {
                        continue;
                    }
                    seen[wi] = step;
                    int[] sym = words[wi];
                    int[] out = mergeWord(sym, left, right, id);
                    if (out == sym) {
                        continue; // stale index entry: an earlier merge removed the pair from this word
                    }
                    long c = wordCount[wi];
                    for (int k = 0; k + 1 < sym.length; k++) {
                        pairCount.add(PairTable.key(sym[k], sym[k + 1]), -c);
                    }
                    for (int k = 0; k + 1 < out.length; k++) {
                        long key = PairTable.key(out[k], out[k + 1]);
                        pairCount.add(key, c);
                        if (out[k] == id || out[k + 1] == id) {
                            index(pairSlot, wordsOf, key, wi);
                            if (touchedCount == touched.length) {
                                touched = Arrays.copyOf(touched, touchedCount * 2);
                            }
                            touched[touchedCount++] = key;
                        }
                    }
                    words[wi] = out;
                }
                Arrays.sort(touched, 0, touchedCount);
                for (int k = 0; k < touchedCount; k++) {
                    if (k == 0 || touched[k] != touched[k - 1]) {
                        long c = pairCount.get(touched[k]);
                        if (c > 0) {
                            heap.push(c, touched[k]);
                        }
                    }
                }
                step++;
                if (bar != null) {
                    bar.stepTo(vocab.size() - 256);
                }
            }
        }
        int firstSpecial = vocab.size();
        List<BpeTokenizer.AddedToken> added = new ArrayList<>();
        for (String s : config.specialTokens()) {
            added.add(new BpeTokenizer.AddedToken(vocab.size(), s, true));
            vocab.add(s);
        }
        if (added.size() != config.specialTokens().size() || vocab.size() != firstSpecial + added.size()) {
            throw new IllegalStateException("special token ids are not contiguous");
        }
        BpeTokenizer tokenizer = new BpeTokenizer(vocab.toArray(String[]::new), merges, config.pattern(), false, false,
                added);
        Stats stats = new Stats(counts.bytes, counts.pretokens, n, invalid, merges.size(), countTime,
                Duration.ofNanos(System.nanoTime() - start), stop);
        return new Result(tokenizer, stats);
    }

    /** The word with every non-overlapping (left, right) replaced by id, scanning left to right; sym itself if none. */
    static int[] mergeWord(int[] sym, int left, int right, int id) {
        int[] out = null;
        int o = 0;
        for (int k = 0; k < sym.length; k++) {
            if (k + 1 < sym.length && sym[k] == left && sym[k + 1] == right) {
                if (out == null) {
                    out = new int[sym.length - 1];
                    System.arraycopy(sym, 0, out, 0, k);
                    o = k;
                }
                out[o++] = id;
                k++;
            } else if (out != null) {
                out[o++] = sym[k];
            }
        }
        return out == null ? sym : Arrays.copyOf(out, o);
    }

    private static void index(PairTable pairSlot, List<IntList> wordsOf, long key, int word) {
        long slot = pairSlot.get(key);
        IntList list;
        if (slot == PairTable.MISSING) {
            list = new IntList(4);
            pairSlot.put(key, wordsOf.size());
            wordsOf.add(list);
        } else {
            list = wordsOf.get((int) slot);
        }
        list.add(word);
    }

    private ProgressBar bar(String task, long max, String unit) {
        if (!showProgress || max < 1000) {
            return null; // try-with-resources skips a null resource
        }
        return ProgressBars.open(task, max, unit, 1, progress, ProgressBars.terminal());
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i
                    + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** Max-heap of (count, pair): higher count first, then the smaller pair (left id, then right id). */
    private static final class PairHeap {
        private long[] counts;
        private long[] pairs;
        private int size;

        PairHeap(int capacity) {
            counts = new long[Math.max(16, capacity)];
            pairs = new long[counts.length];
        }

        boolean isEmpty() {
            return size == 0;
        }

        long topCount() {
            return counts[0];
        }

        long topPair() {
            return pairs[0];
        }

        private static boolean before(long c1, long p1, long c2, long p2) {
            return c1 != c2 ? c1 > c2 : p1 < p2; // pair keys are non-negative, so signed order = (left, right) order
        }

        void push(long count, long pair) {
            if (size == counts.length) {
                counts = Arrays.copyOf(counts, size * 2);
                pairs = Arrays.copyOf(pairs, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (!before(count, pair, counts[p], pairs[p])) {
                    break;
                }
                counts[i] = counts[p];
                pairs[i] = pairs[p];
                i = p;
            }
            counts[i] = count;
            pairs[i] = pair;
        }

        void pop() {
            long c = counts[--size];
            long p = pairs[size];
            int i = 0;
            while (true) {
                int ch = 2 * i + 1;
                if (ch >= size) {
                    break;
                }
                if (ch + 1 < size && before(counts[ch + 1], pairs[ch + 1], counts[ch], pairs[ch])) {
                    ch++;
                }
                if (!before(counts[ch], pairs[ch], c, p)) {
                    break;
                }
                counts[i] = counts[ch];
                pairs[i] = pairs[ch];
                i = ch;
            }
            counts[i] = c;
            pairs[i] = p;
        }
    }
}
