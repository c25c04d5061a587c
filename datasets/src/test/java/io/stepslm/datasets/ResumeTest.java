package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stop after k windows, restore the state from JSON, and the following windows equal an uninterrupted run. */
class ResumeTest {
    private static final ByteTokenizer TOK = ByteTokenizer.narrow();
    private static final int TOTAL = 400;

    @TempDir
    Path dir;
    private SourceSpec spec;

    @BeforeEach
    void corpus() throws IOException {
        // Three files, one compressed, one with a document longer than a piece, ~3 epochs in TOTAL windows of T=32.
        List<String> docs = Corpora.documents(60, 3);
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < docs.size(); i++) {
            (i % 2 == 0 ? a : b).append(docs.get(i)).append("\n\n");
        }
        Corpora.write(dir.resolve("c/a.txt"), a.toString());
        Files.write(dir.resolve("c/b.txt.gz"),
                Corpora.compress(CompressorStreamFactory.GZIP, b.toString().getBytes(StandardCharsets.UTF_8)));
        StringBuilder longDoc = new StringBuilder();
        while (longDoc.length() < Documents.PIECE_CHARS + 5000) {
            longDoc.append("a long book line ").append(longDoc.length()).append('\n');
        }
        Corpora.write(dir.resolve("c/z-long.txt"), longDoc.toString());
        spec = new SourceSpec(List.of(dir.resolve("c").toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
    }

    private StreamingConfig config(int threads) {
        // Long windows so a few hundred of them run through more than one epoch of ~1.1 M tokens.
        // Split by file so the long document is surely on the training side (a hash split decides by its text).
        return new StreamingConfig(4096, threads, 16, true, Split.byFile(List.of("b.txt.gz")), Split.Part.TRAIN);
    }

    private List<int[]> take(WindowSource s, int n) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(s.next());
        }
        return out;
    }

    @Test
    void streamingResumeIsExactAcrossBlocksFilesAndEpochs() throws IOException {
        List<int[]> reference;
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, config(2), LoaderState.initial(42))) {
            reference = take(l, TOTAL);
            assertTrue(l.state().epoch() >= 1, "the run crossed an epoch boundary: " + l.state().toJson());
        }
        for (int k : new int[] {0, 1, 15, 16, 17, 150, 333}) {
            String saved;
            try (StreamingLoader l = StreamingLoader.open(spec, TOK, config(2), LoaderState.initial(42))) {
                List<int[]> head = take(l, k);
                for (int i = 0; i < k; i++) {
                    assertArrayEquals(reference.get(i), head.get(i));
                }
                saved = l.state().toJson();
            }
            // A different thread count must not change the data.
            try (StreamingLoader l = StreamingLoader.open(spec, TOK, config(1), LoaderState.fromJson(saved))) {
                List<int[]> tail = take(l, TOTAL - k);
                for (int i = k; i < TOTAL; i++) {
                    assertArrayEquals(reference.get(i), tail.get(i - k),
                            "window " + i + " after resuming at " + k + " from " + saved);
                }
            }
        }
    }

    @Test
    void shufflingDependsOnTheSeedAndKeepsEveryWindow() throws IOException {
        // Short windows: hundreds of them, so an unchanged order cannot happen by chance.
        StreamingConfig shuffled = new StreamingConfig(64, 1, 16, false, Split.byHash(0.2), Split.Part.TRAIN);
        StreamingConfig ordered = shuffled.withShuffleWindows(0);
        List<int[]> a;
        List<int[]> b;
        List<int[]> c;
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, ordered, LoaderState.initial(1))) {
            a = Corpora.drain(l);
        }
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, shuffled, LoaderState.initial(1))) {
            b = Corpora.drain(l);
        }
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, shuffled, LoaderState.initial(2))) {
            c = Corpora.drain(l);
        }
        assertEquals(a.size(), b.size());
        assertTrue(a.size() > 100, "windows: " + a.size());
        assertFalse(sameOrder(a, b), "a shuffle buffer reorders windows");
        assertFalse(sameOrder(b, c), "another seed gives another order");
        assertEquals(keys(a), keys(b), "a shuffle only reorders");
    }

    private static boolean sameOrder(List<int[]> x, List<int[]> y) {
        for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
            if (!java.util.Arrays.equals(x.get(i), y.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static java.util.Set<String> keys(List<int[]> ws) {
        java.util.Set<String> s = new java.util.TreeSet<>();
        ws.forEach(w -> s.add(java.util.Arrays.toString(w)));
        return s;
    }

    @Test
    void aStateIsRefusedOnOtherDataOrByAnotherLoader() throws IOException {
        LoaderState saved;
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, config(1), LoaderState.initial(5))) {
            take(l, 3);
            saved = l.state();
        }
        Corpora.write(dir.resolve("c/new.txt"), "a file added after the checkpoint");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StreamingLoader.open(spec, TOK, config(1), saved));
        assertTrue(e.getMessage().contains("other data"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LoaderState.fromJson("{\"version\":1}"));
        assertThrows(IllegalArgumentException.class, () -> LoaderState.fromJson("not json"));
        // the saved state is a position after the 3 windows: the same seed, and not the start any more
        assertEquals(5, saved.seed());
        assertFalse(saved.isInitial(), saved.toJson());
        assertEquals(0, saved.block(), saved.toJson());
        assertEquals(3, saved.consumed(), "3 windows taken from the first block: " + saved.toJson());
        // The checkpoint format: a flat JSON object that later versions must keep reading.
        assertEquals("{\"version\":1,\"kind\":\"\",\"seed\":5,\"epoch\":0,\"source\":0,\"piece\":0,\"offset\":0,"
                + "\"block\":0,\"consumed\":0,\"samples\":0,\"signature\":\"\"}", LoaderState.initial(5).toJson());
        assertEquals(saved, LoaderState.fromJson(saved.toJson()));
    }

    @Test
    void shardSamplerAndSequentialResumeExactly() throws IOException {
        Path out = dir.resolve("shards");
        ShardWriter.prepare(spec, TOK, new PrepareConfig(Split.byHash(0.2), 2, 50_000, false), out, (a, b, c) -> { },
                new DataReport());
        try (ShardDataset ds = ShardDataset.open(out, TOK)) {
            for (boolean random : new boolean[] {true, false}) {
                WindowSource ref = random ? ds.sampler(Split.Part.TRAIN, 64, LoaderState.initial(9))
                        : ds.sequential(Split.Part.TRAIN, 64, true, LoaderState.initial(9));
                List<int[]> reference = take(ref, 3000);
                WindowSource first = random ? ds.sampler(Split.Part.TRAIN, 64, LoaderState.initial(9))
                        : ds.sequential(Split.Part.TRAIN, 64, true, LoaderState.initial(9));
                take(first, 1234);
                LoaderState st = LoaderState.fromJson(first.state().toJson());
                WindowSource resumed = random ? ds.sampler(Split.Part.TRAIN, 64, st)
                        : ds.sequential(Split.Part.TRAIN, 64, true, st);
                List<int[]> tail = take(resumed, 3000 - 1234);
                for (int i = 1234; i < 3000; i++) {
                    assertArrayEquals(reference.get(i), tail.get(i - 1234),
                            (random ? "sampler" : "sequential") + " window " + i);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> ds.sequential(Split.Part.TRAIN, 64, true,
                    ds.sampler(Split.Part.TRAIN, 64, LoaderState.initial(1)).state()));
        }
    }
}
