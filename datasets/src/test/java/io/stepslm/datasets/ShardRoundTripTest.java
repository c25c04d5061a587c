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
        StreamingConfig config = new StreamingConfig(1, 1, 0, false, split, part);
        try (StreamingLoader l = StreamingLoader.open(spec, tok, config, LoaderState.initial(0))) {
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
            Manifest m = ShardWriter.prepare(spec, tok, new PrepareConfig(split, 2, 3000, false), out,
                    (a, b, c) -> { }, report);
            int bpt = tok.vocabSize() <= 65536 ? 2 : 4;
            assertEquals(bpt, m.bytesPerToken());
            assertEquals(tok.fingerprint(), m.tokenizerFingerprint());
            assertEquals(300, m.part(Split.Part.TRAIN).documents() + m.part(Split.Part.VALIDATION).documents());
            assertEquals(2, m.sources().size());
            assertEquals(64, m.sources().get(0).sha256().length());
            assertEquals(report.tokens(), m.part(Split.Part.TRAIN).tokens() + m.part(Split.Part.VALIDATION).tokens(),
                    "per-source token counts add up");
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
                    assertArrayEquals(java.util.Arrays.copyOf(expected, got.length), got,
                            part + " with " + tok.fingerprint());
                    assertEquals(ds.windowsPerPass(part, 7) * 7 + 1, got.length);
                }
            }
            assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().contains(".tmp-")),
                    "no temporary folder left");
            // the dataset folder and its files follow the umask like any other (not a temporary folder's 0700)
            Path plainDir = Files.createDirectory(dir.resolve("plain-" + tok.vocabSize()));
            assertEquals(Files.getPosixFilePermissions(plainDir), Files.getPosixFilePermissions(out));
        }
    }

    @Test
    void randomWindowsAreSlicesOfTheStreamAtUniformOffsets() throws IOException {
        // numbered words: any 17 bytes hold one whole 8-byte word, so every window occurs at one offset only
        StringBuilder text = new StringBuilder();
        for (int d = 0, w = 0; d < 300; d++) {
            for (int i = 0; i < 40; i++, w++) {
                text.append(String.format("%07d ", w));
            }
            text.append("\n\n");
        }
        Corpora.write(dir.resolve("numbers/n.txt"), text.toString());
        SourceSpec spec = new SourceSpec(List.of(dir.resolve("numbers").toString()), TextFormat.TEXT_BLOCKS, "text",
                OnError.FAIL);
        ByteTokenizer tok = ByteTokenizer.narrow();
        Path out = dir.resolve("ds");
        ShardWriter.prepare(spec, tok, new PrepareConfig(Split.none(), 1, 5000, false), out, (a, b, c) -> { },
                new DataReport());
        int[] stream = streamed(spec, tok, Split.none(), Split.Part.TRAIN);
        // where each window of 17 ids starts in the stream (a window seen at several offsets is ambiguous)
        java.util.Map<String, Integer> offsetOf = new java.util.HashMap<>();
        for (int i = 0; i + 17 <= stream.length; i++) {
            offsetOf.merge(java.util.Arrays.toString(java.util.Arrays.copyOfRange(stream, i, i + 17)), i, (a, b) -> -1);
        }
        try (ShardDataset ds = ShardDataset.open(out, tok)) {
            WindowSource s = ds.sampler(Split.Part.TRAIN, 16, LoaderState.initial(4));
            int n = 4000;
            int bins = 10;
            long[] counts = new long[bins];
            int ambiguous = 0;
            int starts = stream.length - 17 + 1;
            for (int i = 0; i < n; i++) {
                int[] w = s.next();
                assertEquals(17, w.length);
                Integer at = offsetOf.get(java.util.Arrays.toString(w));
                assertTrue(at != null, "window " + i + " is a contiguous slice of the stream");
                if (at < 0) {
                    ambiguous++;
                } else {
                    counts[(int) ((long) at * bins / starts)]++;
                }
            }
            assertTrue(ambiguous < n / 100, ambiguous + " of " + n + " windows occur at several offsets");
            // every tenth of the stream (not of a shard) is drawn about equally often: chi-square with 9 degrees of
            // freedom below 27.9, its 0.001 critical value (deterministic: the seed is fixed)
            double expected = (n - ambiguous) / (double) bins;
            double chi2 = 0;
            for (long c : counts) {
                chi2 += (c - expected) * (c - expected) / expected;
            }
            assertTrue(chi2 < 27.9, "chi-square " + chi2 + " over tenths of the stream: "
                    + java.util.Arrays.toString(counts));
            assertThrows(IllegalArgumentException.class,
                    () -> ds.sampler(Split.Part.VALIDATION, 16, LoaderState.initial(0)),
                    "an empty validation part is refused with a message");
        }
    }

    @Test
    void samplerOffsetsAreUniform() {
        // Counter-based draws over [0, 1000): each tenth gets about 10 % (chi-square well below the 0.001 critical
        // value 27.9).
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
