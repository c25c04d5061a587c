package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardRoundTripTest {

    @TempDir
    Path dir;

    private SourceSpec corpus() throws IOException {
        List<String> docs = Corpora.documents(300, 21);
        Corpora.write(dir.resolve("in/a.txt"), String.join("\n\n", docs.subList(0, 150)));
        Corpora.write(dir.resolve("in/b.txt"), String.join("\n\n", docs.subList(150, 300)));
        return new SourceSpec(List.of(dir.resolve("in").toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
    }

    /** The whole token stream of one part as the streaming loader sees it (T = 1: every id, nothing dropped). */
    private static int[] streamed(SourceSpec spec, ByteTokenizer tok, Split split, Split.Part part) throws IOException {
        try (StreamingLoader l = StreamingLoader.open(spec, tok, new StreamingConfig(1, 1, 0, false, split, part), LoaderState.initial(0))) {
            return Corpora.unwindow(Corpora.drain(l));
        }
    }

    @Test
    void shardsHoldExactlyTheStreamedTokensInUint16AndUint32() throws IOException {
        SourceSpec spec = corpus();
        Split split = Split.byHash(0.2);
        for (ByteTokenizer tok : List.of(ByteTokenizer.narrow(), ByteTokenizer.wide())) {
            Path out = dir.resolve("ds-" + tok.vocabSize());
            DataReport report = new DataReport();
            Manifest m = ShardWriter.prepare(spec, tok, new PrepareConfig(split, 2, 3000, false), out, (a, b, c) -> { }, report);
            int bpt = tok.vocabSize() <= 65536 ? 2 : 4;
            assertEquals(bpt, m.bytesPerToken());
            assertEquals(tok.fingerprint(), m.tokenizerFingerprint());
            assertEquals(300, m.part(Split.Part.TRAIN).documents() + m.part(Split.Part.VALIDATION).documents());
            assertEquals(2, m.sources().size());
            assertEquals(64, m.sources().get(0).sha256().length());
            assertEquals(report.tokens(), m.part(Split.Part.TRAIN).tokens() + m.part(Split.Part.VALIDATION).tokens(), "per-source token counts add up");
            assertTrue(m.shardsOf(Split.Part.TRAIN).size() > 3, "small shards: windows cross shard boundaries");
            for (Manifest.ShardEntry s : m.shards()) {
                try (FileChannel ch = FileChannel.open(out.resolve(s.file()), StandardOpenOption.READ)) {
                    ShardHeader h = ShardHeader.read(ch, out.resolve(s.file()));
                    assertEquals(bpt, h.bytesPerToken());
                    assertEquals(s.tokens(), h.tokenCount());
                    assertEquals(ShardHeader.BYTES + s.tokens() * bpt, Files.size(out.resolve(s.file())));
                }
            }
            try (ShardDataset ds = ShardDataset.open(out, tok)) {
                for (Split.Part part : Split.Part.values()) {
                    int[] expected = streamed(spec, tok, split, part);
                    assertEquals(expected.length, ds.tokens(part));
                    int[] got = Corpora.unwindow(Corpora.drain(ds.sequential(part, 7, false, LoaderState.initial(0))));
                    assertArrayEquals(java.util.Arrays.copyOf(expected, got.length), got, part + " with " + tok.fingerprint());
                    assertEquals(ds.windowsPerPass(part, 7) * 7 + 1, got.length);
                }
            }
            assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary folder left");
        }
    }

    @Test
    void randomWindowsAreSlicesOfTheStreamAtUniformOffsets() throws IOException {
        SourceSpec spec = corpus();
        ByteTokenizer tok = ByteTokenizer.narrow();
        Path out = dir.resolve("ds");
        ShardWriter.prepare(spec, tok, new PrepareConfig(Split.none(), 1, 5000, false), out, (a, b, c) -> { }, new DataReport());
        int[] stream = streamed(spec, tok, Split.none(), Split.Part.TRAIN);
        String haystack = java.util.Arrays.toString(stream);
        try (ShardDataset ds = ShardDataset.open(out, tok)) {
            WindowSource s = ds.sampler(Split.Part.TRAIN, 16, LoaderState.initial(4));
            int n = 4000;
            List<int[]> some = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int[] w = s.next();
                assertEquals(17, w.length);
                if (i < 50) {
                    some.add(w);
                }
            }
            for (int[] w : some) {
                String needle = java.util.Arrays.toString(w);
                assertTrue(haystack.contains(needle.substring(1, needle.length() - 1)), "a sampled window is a contiguous slice of the stream");
            }
            assertThrows(IllegalArgumentException.class, () -> ds.sampler(Split.Part.VALIDATION, 16, LoaderState.initial(0)),
                    "an empty validation part is refused with a message");
        }
    }

    @Test
    void samplerOffsetsAreUniform() {
        // Counter-based draws over [0, 1000): each tenth gets about 10 % (chi-square well below the 0.001 critical value 27.9).
        long[] bins = new long[10];
        int n = 100_000;
        for (int k = 0; k < n; k++) {
            bins[(int) (SplitMix64.below(SplitMix64.mix(77, k), 1000, new SplitMix64(k)) / 100)]++;
        }
        double chi2 = 0;
        for (long b : bins) {
            chi2 += Math.pow(b - n / 10.0, 2) / (n / 10.0);
        }
        assertTrue(chi2 < 27.9, "chi-square " + chi2);
    }
}
