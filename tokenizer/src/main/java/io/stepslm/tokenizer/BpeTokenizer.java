package io.stepslm.tokenizer;

import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * Byte-level BPE as in GPT-2: special tokens are cut out first, the rest is split by a {@link SplitPattern}, each
 * piece becomes UTF-8 bytes mapped to byte tokens ({@link ByteLevel}), and merges are applied lowest rank first,
 * leftmost first among equal ranks (HuggingFace's BPE model; tiktoken gives the same ids). Pieces are cached.
 * Immutable and thread-safe; see {@link BpeTrainer} to learn one and {@link TokenizerFiles} to load one.
 */
public final class BpeTokenizer implements Tokenizer {

    /** A token matched in raw text before splitting (HuggingFace "added_tokens"). */
    public record AddedToken(int id, String content, boolean special) {}

    /** Pieces longer than this use the heap merge (O(n log n)); shorter ones the simple O(n^2) scan. */
    private static final int SHORT_WORD = 64;
    /** Slots of the pre-token cache (bounded like HuggingFace's BPE cache, so memory stays flat on any corpus). */
    private static final int CACHE_CAPACITY = 1 << 17;

    private final String[] vocab;
    private final Map<String, Integer> ids;
    private final byte[][] tokenBytes;
    private final int[] byteToId = new int[256];
    private final List<int[]> merges;
    private final PairTable mergeTable;
    private final SplitPattern pattern;
    private final boolean addPrefixSpace;
    private final boolean ignoreMerges;
    /**
     * HuggingFace unk_token: a byte whose token is missing from the vocabulary becomes this id; "" = the byte is
     * dropped.
     */
    private final String unkToken;
    private final int unkId;
    private final boolean fuseUnk;
    private final List<AddedToken> addedTokens;
    private final SpecialTokens matcher;
    private final int[] addedIds;
    private final PieceCache cache = new PieceCache(CACHE_CAPACITY);
    private volatile String fingerprint;

    /**
     * @param vocab token string by id (byte-level strings; null for unused ids)
     * @param merges (left id, right id) in rank order; the merged token must be in the vocabulary
     */
    BpeTokenizer(String[] vocab, List<int[]> merges, SplitPattern pattern, boolean addPrefixSpace, boolean ignoreMerges,
                 List<AddedToken> addedTokens) {
        this(vocab, merges, pattern, addPrefixSpace, ignoreMerges, addedTokens, "", false);
    }

    /**
     * For loaded files: a vocabulary may lack byte tokens (HuggingFace's trainer without an initial alphabet keeps
     * only the bytes it saw). Like HuggingFace's BPE, such a byte becomes unk_token when there is one (consecutive
     * ones fused into one when fuse_unk), otherwise it is dropped; decode(encode(s)) then differs from s.
     */
    BpeTokenizer(String[] vocab, List<int[]> merges, SplitPattern pattern, boolean addPrefixSpace, boolean ignoreMerges,
                 List<AddedToken> addedTokens, String unkToken, boolean fuseUnk) {
        this.vocab = vocab.clone();
        this.unkToken = unkToken;
        this.fuseUnk = fuseUnk;
        this.pattern = pattern;
        this.addPrefixSpace = addPrefixSpace;
        this.ignoreMerges = ignoreMerges;
        this.ids = new HashMap<>(vocab.length * 2);
        for (int id = 0; id < vocab.length; id++) {
            if (vocab[id] != null && ids.putIfAbsent(vocab[id], id) != null) {
                throw new IllegalArgumentException("token " + quote(vocab[id])
                        + " appears twice in the vocabulary (ids "
                        + ids.get(vocab[id]) + " and " + id + "); each token string must have one id");
            }
        }
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
            byteToId[b] = id == null ? -1 : id;
        }
        if (unkToken.isEmpty()) {
            this.unkId = -1;
        } else {
            Integer id = ids.get(unkToken);
            if (id == null) {
                throw new IllegalArgumentException("unk_token " + quote(unkToken)
                        + " is not in the vocabulary: add it or set unk_token to null");
            }
            this.unkId = id;
        }
        this.merges = List.copyOf(merges);
        this.mergeTable = new PairTable(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            int[] m = merges.get(rank);
            String merged = vocab[m[0]] + vocab[m[1]];
            Integer id = ids.get(merged);
            if (id == null) {
                throw new IllegalArgumentException("merge " + (rank + 1) + " (" + quote(vocab[m[0]]) + ", "
                        + quote(vocab[m[1]])
                        + ") makes " + quote(merged) + ", which is not in the vocabulary");
            }
            long key = PairTable.key(m[0], m[1]);
            if (mergeTable.get(key) == PairTable.MISSING) { // a repeated merge keeps its first (lowest) rank
                mergeTable.put(key, (long) rank << 32 | id);
            }
        }
        int size = vocab.length;
        for (AddedToken t : addedTokens) {
            size = Math.max(size, t.id() + 1);
        }
        this.tokenBytes = new byte[size][];
        for (int id = 0; id < vocab.length; id++) {
            if (vocab[id] != null) {
                byte[] b = ByteLevel.decode(vocab[id]);
                tokenBytes[id] = b != null ? b : vocab[id].getBytes(StandardCharsets.UTF_8);
            }
        }
        this.addedTokens = List.copyOf(addedTokens);
        this.addedIds = new int[addedTokens.size()];
        List<String> contents = new ArrayList<>();
        for (int i = 0; i < addedTokens.size(); i++) {
            AddedToken t = addedTokens.get(i);
            if (t.id() < vocab.length && vocab[t.id()] != null && !vocab[t.id()].equals(t.content())) {
                throw new IllegalArgumentException("added token " + quote(t.content()) + " has id " + t.id()
                        + ", which the vocabulary gives to " + quote(vocab[t.id()]));
            }
            tokenBytes[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
            addedIds[i] = t.id();
            contents.add(t.content());
        }
        this.matcher = new SpecialTokens(contents);
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 8);
        if (matcher.size() == 0) {
            encodeOrdinary(text, 0, text.length(), out);
            return out.toArray();
        }
        SpecialTokens.Cursor cursor = matcher.cursor(text);
        int pos = 0;
        while (cursor.find(pos)) {
            encodeOrdinary(text, pos, cursor.start, out);
            out.add(addedIds[cursor.index]);
            pos = cursor.end();
        }
        encodeOrdinary(text, pos, text.length(), out);
        return out.toArray();
    }

    /** Encodes many texts on {@code threads} threads (the pre-token cache is shared); results in input order. */
    public int[][] encodeBatch(List<String> texts, int threads) {
        if (threads <= 1) {
            int[][] out = new int[texts.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = encode(texts.get(i));
            }
            return out;
        }
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            return pool.submit(() -> texts.parallelStream().map(this::encode).toArray(int[][]::new)).join();
        } finally {
            pool.shutdown();
        }
    }

    @Override
    public int[][] encodeBatch(List<String> texts) {
        return encodeBatch(texts, Runtime.getRuntime().availableProcessors());
    }

    private void encodeOrdinary(String text, int from, int to, IntList out) {
        if (from >= to) {
            return;
        }
        String s = text;
        if (addPrefixSpace && text.charAt(from) != ' ') {
            // HuggingFace ByteLevel(add_prefix_space=true) prepends a space to every piece between added tokens
            s = " " + text.substring(from, to);
            from = 0;
            to = s.length();
        }
        for (int i = from; i < to; ) {
            int e = pattern.next(s, i, to);
            int hash = PieceCache.hash(s, i, e);
            PieceCache.Entry hit = cache.find(s, i, e, hash);
            if (hit == null) {
                String piece = s.substring(i, e);
                int[] pieceIds = encodePiece(piece);
                cache.put(piece, hash, pieceIds);
                out.addAll(pieceIds);
            } else if (hit.single >= 0) {
                out.add(hit.single);
            } else {
                out.addAll(hit.ids);
            }
            i = e;
        }
    }

    /** BPE on one pre-token, no cache; public to tests through {@link #encodePieceUncached}. */
    private int[] encodePiece(String piece) {
        byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
        if (ignoreMerges) {
            Integer whole = ids.get(ByteLevel.encode(utf8, 0, utf8.length));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = utf8.length;
        int[] sym = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = byteToId[utf8[i] & 0xFF];
            if (sym[i] < 0) {
                return encodeWithMissingBytes(utf8);
            }
        }
        return n <= SHORT_WORD ? mergeShort(sym) : mergeLong(sym);
    }

    /** HuggingFace's BPE::merge_word for bytes without a token: unk (fused when fuse_unk) or dropped. */
    private int[] encodeWithMissingBytes(byte[] utf8) {
        IntList syms = new IntList(utf8.length);
        boolean lastUnk = false;
        for (byte b : utf8) {
            int id = byteToId[b & 0xFF];
            if (id >= 0) {
                syms.add(id);
                lastUnk = false;
            } else if (unkId >= 0 && !(fuseUnk && lastUnk)) {
                syms.add(unkId);
                lastUnk = true;
            }
        }
        int[] sym = syms.toArray();
        return sym.length <= SHORT_WORD ? mergeShort(sym) : mergeLong(sym);
    }

    int[] encodePieceUncached(String piece) {
        return encodePiece(piece);
    }

    /** Lowest rank first, leftmost among equals; pair values cached in an array so each step is one scan. */
    private int[] mergeShort(int[] sym) {
        int n = sym.length;
        long[] val = new long[Math.max(0, n - 1)]; // rank << 32 | mergedId, or Long.MAX_VALUE when no merge
        for (int i = 0; i + 1 < n; i++) {
            val[i] = pairValue(sym[i], sym[i + 1]);
        }
        while (n > 1) {
            long best = Long.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < n; i++) {
                if (val[i] < best) {
                    best = val[i];
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            sym[at] = (int) best;
            System.arraycopy(sym, at + 2, sym, at + 1, n - at - 2);
            System.arraycopy(val, at + 1, val, at, n - at - 2);
            n--;
            if (at > 0) {
                val[at - 1] = pairValue(sym[at - 1], sym[at]);
            }
            if (at + 1 < n) {
                val[at] = pairValue(sym[at], sym[at + 1]);
            }
        }
        return n == sym.length ? sym : java.util.Arrays.copyOf(sym, n);
    }

    /** The same order as {@link #mergeShort} with a heap of (rank, position) and a linked list of symbols. */
    private int[] mergeLong(int[] sym) {
        int n = sym.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            long v = pairValue(sym[i], sym[i + 1]);
            if (v != Long.MAX_VALUE) {
                heap.push((v >>> 32) << 32 | i);
            }
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long e = heap.pop();
            int pos = (int) e;
            int nx = next[pos];
            if (sym[pos] < 0 || nx >= n) {
                continue;
            }
            long v = pairValue(sym[pos], sym[nx]);
            if (v == Long.MAX_VALUE || (v >>> 32) != (e >>> 32)) {
                continue; // stale entry: this pair changed after it was pushed
            }
            sym[pos] = (int) v;
            sym[nx] = -1;
            next[pos] = next[nx];
            if (next[nx] < n) {
                prev[next[nx]] = pos;
            }
            alive--;
            if (prev[pos] >= 0) {
                long pv = pairValue(sym[prev[pos]], sym[pos]);
                if (pv != Long.MAX_VALUE) {
                    heap.push((pv >>> 32) << 32 | prev[pos]);
                }
            }
            if (next[pos] < n) {
                long nv = pairValue(sym[pos], sym[next[pos]]);
                if (nv != Long.MAX_VALUE) {
                    heap.push((nv >>> 32) << 32 | pos);
                }
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i < n; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    private long pairValue(int left, int right) {
        long v = mergeTable.get(PairTable.key(left, right));
        return v == PairTable.MISSING ? Long.MAX_VALUE : v;
    }

    @Override
    public String decode(int[] ids) {
        int len = 0;
        for (int id : ids) {
            len += bytesOf(id).length;
        }
        byte[] buf = new byte[len];
        int k = 0;
        for (int id : ids) {
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, buf, k, b.length);
            k += b.length;
        }
        // like HuggingFace's ByteLevel decoder: a sequence that is not valid UTF-8 becomes U+FFFD
        return new String(buf, StandardCharsets.UTF_8);
    }

    /** The raw bytes of one token (a token may hold part of a multi-byte character). */
    public byte[] bytesOf(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in this tokenizer's vocabulary (0.."
                    + (tokenBytes.length - 1) + "): the ids come from a different tokenizer");
        }
        return tokenBytes[id];
    }

    /** The token string as stored in tokenizer.json (byte-level characters, or the added token's text). */
    public String token(int id) {
        bytesOf(id);
        return id < vocab.length && vocab[id] != null ? vocab[id] : addedTokenById(id).content();
    }

    private AddedToken addedTokenById(int id) {
        for (AddedToken t : addedTokens) {
            if (t.id() == id) {
                return t;
            }
        }
        throw new IllegalArgumentException("token id " + id + " is not in this tokenizer's vocabulary");
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public int endOfTextId() {
        for (AddedToken t : addedTokens) {
            if (t.content().equals(END_OF_TEXT)) {
                return t.id();
            }
        }
        Integer id = ids.get(END_OF_TEXT);
        if (id == null) {
            throw new IllegalStateException("this tokenizer has no " + END_OF_TEXT
                    + " token: retrain it with the default special tokens");
        }
        return id;
    }

    public SplitPattern pattern() {
        return pattern;
    }

    public boolean addPrefixSpace() {
        return addPrefixSpace;
    }

    public boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** The unknown token for bytes missing from the vocabulary, or "" when there is none. */
    public String unkToken() {
        return unkToken;
    }

    public boolean fuseUnk() {
        return fuseUnk;
    }

    /** Number of merges (the vocabulary minus the 256 byte tokens and the added tokens, for trained tokenizers). */
    public int mergeCount() {
        return merges.size();
    }

    /** The merges as (left id, right id), in rank order. */
    public List<int[]> merges() {
        List<int[]> out = new ArrayList<>(merges.size());
        for (int[] m : merges) {
            out.add(m.clone());
        }
        return out;
    }

    public List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** Token strings of the model vocabulary by id (null for unused ids). */
    List<String> vocabList() {
        return Collections.unmodifiableList(java.util.Arrays.asList(vocab));
    }

    @Override
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            f = TokenizerFiles.sha256(HuggingFaceJson.write(this));
            fingerprint = f;
        }
        return f;
    }

    @Override
    public void save(Path file) throws IOException {
        AtomicFiles.write(file, HuggingFaceJson.write(this));
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        s.codePoints().forEach(cp -> {
            if (cp < 32 || cp == 127) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.append('\'').toString();
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) {
                a = java.util.Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) {
                    break;
                }
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= v) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }
}
