package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FormatEquivalenceTest {
    private static final ByteTokenizer TOK = ByteTokenizer.narrow();

    @TempDir
    Path dir;

    /** Three documents as the reference: their ids, each followed by end-of-text. */
    private static final List<String> DOCS = Corpora.documents(3, 7);

    private static int[] expected() {
        List<int[]> parts = new ArrayList<>();
        for (String d : DOCS) {
            parts.add(TOK.encode(d));
            parts.add(new int[] {TOK.endOfTextId()});
        }
        return Corpora.concat(parts);
    }

    /** Reads every window in order (no shuffle, one pass) and returns the token stream they cover. */
    private static int[] stream(SourceSpec spec, int threads) throws IOException {
        StreamingConfig cfg = new StreamingConfig(4, threads, 0, false, Split.none(), Split.Part.TRAIN);
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, cfg, LoaderState.initial(1))) {
            return Corpora.unwindow(Corpora.drain(l));
        }
    }

    /** The stream minus the partial last window that a non-cycling loader drops. */
    private static int[] truncatedTo(int[] all, int[] got) {
        assertEquals(0, (got.length - 1) % 4, "windows of T=4 overlapping by one id");
        assertEquals((all.length - 1) / 4 * 4 + 1, got.length, "all full windows are returned");
        return java.util.Arrays.copyOf(all, got.length);
    }

    private Path files(String compressor, String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        for (int i = 0; i < DOCS.size(); i++) {
            byte[] raw = DOCS.get(i).getBytes(StandardCharsets.UTF_8);
            Files.write(d.resolve("doc" + i + ".txt"), compressor.isEmpty() ? raw : Corpora.compress(compressor, raw));
        }
        return d;
    }

    @ParameterizedTest
    @ValueSource(strings = {"", CompressorStreamFactory.GZIP, CompressorStreamFactory.BZIP2, CompressorStreamFactory.XZ,
            CompressorStreamFactory.ZSTANDARD})
    void plainAndEveryCompressionGiveTheSameTokens(String compressor) throws IOException {
        // Files are all named .txt: compression is detected from the bytes, never from the name.
        Path d = files(compressor, "c-" + (compressor.isEmpty() ? "plain" : compressor));
        int[] got = stream(SourceSpec.textFiles(List.of(d.toString())), 1);
        assertArrayEquals(truncatedTo(expected(), got), got);
    }

    @Test
    void tarGzAndJsonlGiveTheSameTokensAsPlainText() throws IOException {
        int[] plain = stream(SourceSpec.textFiles(List.of(files("", "plain").toString())), 2);

        List<String> names = List.of("docs/doc0.txt", "docs/doc1.txt", "docs/doc2.txt");
        List<byte[]> contents = DOCS.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        Path tgz = Files.write(dir.resolve("docs.tar.gz"),
                Corpora.compress(CompressorStreamFactory.GZIP, Corpora.tar(names, contents)));
        Path tar = Files.write(dir.resolve("docs.tar"), Corpora.tar(names, contents));
        assertArrayEquals(plain, stream(SourceSpec.textFiles(List.of(tgz.toString())), 2));
        assertArrayEquals(plain, stream(SourceSpec.textFiles(List.of(tar.toString())), 1));

        StringBuilder jsonl = new StringBuilder();
        for (String doc : DOCS) {
            JsonObject o = new JsonObject();
            o.addProperty("id", 1);
            o.addProperty("content", doc);
            jsonl.append(o).append('\n');
        }
        Path j = Files.write(dir.resolve("docs.jsonl.zst"), Corpora.compress(CompressorStreamFactory.ZSTANDARD,
                jsonl.toString().getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(plain, stream(SourceSpec.jsonl(List.of(j.toString()), "content"), 2));
        assertArrayEquals(truncatedTo(expected(), plain), plain);
    }

    @Test
    void blocksAndLinesCutDocumentsAsDocumented() throws IOException {
        Path f = Corpora.write(dir.resolve("b.txt"), "\uFEFFfirst line\r\nstill first\n\n\n  \nsecond\n\nthird\n");
        List<String> blocks =
                texts(new SourceSpec(List.of(f.toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL));
        assertEquals(List.of("first line\nstill first", "second", "third"), blocks);
        List<String> lines = texts(new SourceSpec(List.of(f.toString()), TextFormat.TEXT_LINES, "text", OnError.FAIL));
        assertEquals(List.of("first line", "still first", "second", "third"), lines);
        List<String> whole = texts(SourceSpec.textFiles(List.of(f.toString())));
        assertEquals(List.of("first line\r\nstill first\n\n\n  \nsecond\n\nthird\n"), whole);
    }

    @Test
    void foldersAreReadRecursivelyInSortedOrderAndGlobsMatch() throws IOException {
        Corpora.write(dir.resolve("corpus/b/2.txt"), "two");
        Corpora.write(dir.resolve("corpus/a.txt"), "one");
        Corpora.write(dir.resolve("corpus/b/10.txt"), "ten");
        Corpora.write(dir.resolve("corpus/.hidden/x.txt"), "hidden");
        Corpora.write(dir.resolve("corpus/c.md"), "markdown");
        assertEquals(List.of("one", "ten", "two", "markdown"),
                texts(SourceSpec.textFiles(List.of(dir.resolve("corpus").toString()))));
        assertEquals(List.of("one", "ten", "two"),
                texts(SourceSpec.textFiles(List.of(dir.resolve("corpus") + "/**/*.txt"))));
        assertEquals(List.of("ten", "two"), texts(SourceSpec.textFiles(List.of(dir.resolve("corpus") + "/*/*.txt"))));
        assertEquals(List.of("markdown", "one"), texts(SourceSpec.textFiles(
                List.of(dir.resolve("corpus/c.md").toString(), dir.resolve("corpus") + "/*.txt"))));
    }

    @Test
    void aLongDocumentComesInPiecesCutAfterNewlinesAndRejoinsExactly() throws IOException {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (sb.length() < 2 * Documents.PIECE_CHARS + 1000) {
            sb.append("line ").append(i++).append(" of a very long book\n");
        }
        Path f = Corpora.write(dir.resolve("long.txt"), sb.toString());
        List<Document> docs = new ArrayList<>();
        try (Documents d = Documents.open(SourceSpec.textFiles(List.of(f.toString())))) {
            d.forEachRemaining(docs::add);
        }
        assertEquals(3, docs.size());
        StringBuilder joined = new StringBuilder();
        for (int p = 0; p < docs.size(); p++) {
            assertEquals(p, docs.get(p).piece());
            assertEquals(p == 2, docs.get(p).last());
            if (p < 2) {
                assertEquals('\n', docs.get(p).text().charAt(docs.get(p).text().length() - 1), "cut after a newline");
            }
            joined.append(docs.get(p).text());
        }
        assertEquals(sb.toString(), joined.toString());
    }

    static List<String> texts(SourceSpec spec) throws IOException {
        List<String> out = new ArrayList<>();
        try (Documents d = Documents.open(spec)) {
            d.forEachRemaining(doc -> out.add(doc.text()));
        }
        return out;
    }
}
