package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.tokenizer.InputFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Each bad input gives the promised error (file and line or offset) under FAIL, or a count under SKIP. */
class BadInputTest {
    private static final ByteTokenizer TOK = ByteTokenizer.narrow();

    @TempDir
    Path dir;

    private record Read(List<String> texts, DataReport report) {}

    private static Read read(SourceSpec spec) throws IOException {
        List<String> texts = new java.util.ArrayList<>();
        try (Documents d = Documents.open(spec)) {
            d.forEachRemaining(doc -> texts.add(doc.text()));
            return new Read(texts, d.report());
        }
    }

    private static String failure(SourceSpec spec) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> read(spec));
        return e.getMessage();
    }

    private static String bigText() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20000; i++) {
            sb.append("line ").append(i).append(" of a compressed file that will be cut short\n");
        }
        return sb.toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {CompressorStreamFactory.GZIP, CompressorStreamFactory.BZIP2, CompressorStreamFactory.XZ,
            CompressorStreamFactory.ZSTANDARD})
    void truncatedCompressedFilesFailWithTheFileAndOffsetOrAreCountedUnderSkip(String compressor) throws IOException {
        byte[] full = Corpora.compress(compressor, bigText().getBytes(StandardCharsets.UTF_8));
        Path f = Files.write(dir.resolve("cut." + compressor), Arrays.copyOf(full, full.length / 2));
        Path good = Corpora.write(dir.resolve("good.txt"), "a good document");
        SourceSpec spec = new SourceSpec(List.of(f.toString(), good.toString()), TextFormat.TEXT_LINES, "text",
                OnError.FAIL);
        String msg = failure(spec);
        assertTrue(msg.contains(f.toString()) && msg.contains("truncated or corrupt") && msg.contains("near byte")
                && msg.contains("--on-error skip"), msg);

        Read r = read(spec.withOnError(OnError.SKIP));
        assertEquals("a good document", r.texts().get(r.texts().size() - 1), "the next file is still read");
        SourceStats s = r.report().sources().get(0);
        assertEquals(1, s.skipped(), "the damaged rest of the file counts as one skipped item");
        // gzip and zstd decode as they go, so the lines before the cut come out; bzip2 (900 kB blocks) and xz (one
        // block here) check a whole block before releasing it, so a cut in the first block yields nothing.
        boolean streaming = compressor.equals(CompressorStreamFactory.GZIP)
                || compressor.equals(CompressorStreamFactory.ZSTANDARD);
        assertTrue(s.documents() < 20000 && (!streaming || s.documents() > 0), "lines before the damage are kept: "
                + s.documents());
        assertTrue(r.report().table().contains("truncated or corrupt"), r.report().table());
    }

    /**
     * Every compressed or archived format, cut in half: one line naming the file, the format's stream and the fix,
     * with no Java class name (java.io.EOFException, ZstdIOException) and no library advice (issue 13, item 8).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"gz, gzip", "bzip2, bzip2", "xz, xz", "zstd, zstd", "tar, tar", "gz+tar, tar.gz",
            "zstd+tar, tar.zst", "bzip2+tar, bzip2"}) // bzip2 checks its first block before the tar header is seen
    void aCutStreamIsOnePlainLineNamingTheFileAndTheFormat(String format, String named) throws IOException {
        byte[] text = bigText().getBytes(StandardCharsets.UTF_8);
        String[] layers = format.split("\\+");
        byte[] bytes = format.endsWith("tar") ? Corpora.tar(List.of("docs/a.txt"), List.of(text)) : text;
        if (!layers[0].equals("tar")) {
            bytes = Corpora.compress(layers[0], bytes);
        }
        Path f = Files.write(dir.resolve("cut." + format), Arrays.copyOf(bytes, bytes.length / 2));
        String msg = failure(new SourceSpec(List.of(f.toString()), TextFormat.TEXT_LINES, "text", OnError.FAIL));
        assertTrue(msg.startsWith(f + ": truncated or corrupt " + named + " stream near byte "), msg);
        assertTrue(msg.contains("re-create or re-download " + f + ", or pass --on-error skip"), msg);
        assertFalse(msg.contains("\n"), "one line: " + msg);
        assertFalse(Pattern.compile("\\b(java|org|com)\\.[a-z]+\\.|Exception\\b|https?://").matcher(msg).find(),
                "no Java class names: " + msg);
    }

    @Test
    void aMalformedJsonlLineIsOnePlainLine() throws IOException {
        Path f = Corpora.write(dir.resolve("m.jsonl"), "{\"text\": \"one\"}\n{\"text\": \"two\n");
        String msg = failure(SourceSpec.jsonl(List.of(f.toString()), "text"));
        assertTrue(msg.startsWith(f + " line 2 is not valid JSON ("), msg);
        assertFalse(msg.contains("\n"), "one line: " + msg);
        assertFalse(Pattern.compile("\\b(java|org|com)\\.[a-z]+\\.|Exception\\b|https?://").matcher(msg).find(),
                "no Java class names or Gson's troubleshooting link: " + msg);
    }

    @Test
    void corruptGzipInTheMiddleIsReported() throws IOException {
        byte[] gz = Corpora.compress(CompressorStreamFactory.GZIP, bigText().getBytes(StandardCharsets.UTF_8));
        for (int i = gz.length / 3; i < gz.length / 3 + 64; i++) {
            gz[i] ^= 0x5a;
        }
        Path f = Files.write(dir.resolve("flipped.gz"), gz);
        String msg = failure(new SourceSpec(List.of(f.toString()), TextFormat.TEXT_LINES, "text", OnError.FAIL));
        assertTrue(msg.contains("flipped.gz") && msg.contains("gz"), msg);
    }

    @Test
    void aNonTextTarEntryFailsNamingTheEntryOrIsSkipped() throws IOException {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
        byte[] tar = Corpora.tar(List.of("docs/a.txt", "docs/logo.png", "docs/b.txt"),
                List.of("alpha".getBytes(StandardCharsets.UTF_8), png, "beta".getBytes(StandardCharsets.UTF_8)));
        Path f = Files.write(dir.resolve("mixed.tar.gz"), Corpora.compress(CompressorStreamFactory.GZIP, tar));
        SourceSpec spec = SourceSpec.textFiles(List.of(f.toString()));
        String msg = failure(spec);
        assertTrue(msg.contains("mixed.tar.gz!/docs/logo.png") && msg.contains("not UTF-8 text"), msg);
        Read r = read(spec.withOnError(OnError.SKIP));
        assertEquals(List.of("alpha", "beta"), r.texts());
        assertEquals(1, r.report().skipped());
        assertFalse(r.report().sources().get(0).sha256().isEmpty(), "the archive was read to the end and checksummed");
    }

    @Test
    void badJsonlLinesFailWithTheLineNumberOrAreCounted() throws IOException {
        Path f = Corpora.write(dir.resolve("d.jsonl"), "{\"text\": \"one\"}\n{\"text\": broken\n\n{\"title\": \"no "
                + "text\"}\n{\"text\": 5}\n[1,2]\n{\"text\": \"\"}\n{\"text\": \"two\"}\n");
        SourceSpec spec = SourceSpec.jsonl(List.of(f.toString()), "text");
        String msg = failure(spec);
        assertTrue(msg.contains("d.jsonl line 2") && msg.contains("not valid JSON"), msg);
        Read r = read(spec.withOnError(OnError.SKIP));
        assertEquals(List.of("one", "two"), r.texts());
        SourceStats s = r.report().sources().get(0);
        assertEquals(4, s.skipped(), r.report().table());
        assertEquals(1, s.empty());
        assertTrue(s.problems().stream().anyMatch(p -> p.contains("line 4") && p.contains("no field \"text\"")),
                s.problems().toString());
        String missing = failure(SourceSpec.jsonl(List.of(Corpora.write(dir.resolve("e.jsonl"),
                "{\"body\": \"x\"}\n").toString()), "text"));
        assertTrue(missing.contains("e.jsonl line 1 has no field \"text\" (fields: [body])")
                && missing.contains("--field"), missing);
    }

    @Test
    void invalidUtf8IsRepairedAndCounted() throws IOException {
        byte[] bytes = {'o', 'k', ' ', (byte) 0xC3, ' ', 'a', (byte) 0xFF, (byte) 0xFE, 'b', ' ', (byte) 0xE6,
                (byte) 0x97};
        Path f = Files.write(dir.resolve("latin.txt"), bytes);
        Read r = read(SourceSpec.textFiles(List.of(f.toString())));
        assertEquals(List.of("ok \uFFFD a\uFFFD\uFFFDb \uFFFD"), r.texts());
        assertEquals(4, r.report().repaired());
    }

    @Test
    void emptyFilesAreSkippedAndCountedButANoDataCorpusIsAnError() throws IOException {
        Path empty = Files.write(dir.resolve("empty.txt"), new byte[0]);
        Path blank = Corpora.write(dir.resolve("blank.txt"), "  \n\n");
        Path ok = Corpora.write(dir.resolve("ok.txt"), "text");
        Read r = read(SourceSpec.textFiles(List.of(empty.toString(), blank.toString(), ok.toString())));
        assertEquals(List.of("text"), r.texts());
        assertEquals(2, r.report().empty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardWriter.prepare(
                SourceSpec.textFiles(List.of(empty.toString())), TOK, PrepareConfig.defaults(Split.none()),
                dir.resolve("out"), (a, b, c) -> { }, new DataReport()));
        assertTrue(e.getMessage().contains("no document"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("out")));
    }

    @Test
    void missingAndUnreadablePathsAreNamed() throws IOException {
        assertThrows(NoSuchFileException.class, () -> InputFiles.resolve(List.of(dir.resolve("nope.txt").toString())));
        NoSuchFileException glob = assertThrows(NoSuchFileException.class, () -> InputFiles.resolve(List.of(dir
                + "/*.jsonl")));
        assertTrue(glob.getMessage().contains("matched no file"), glob.getMessage());
        Files.createDirectories(dir.resolve("emptydir"));
        IOException e = assertThrows(IOException.class,
                () -> InputFiles.resolve(List.of(dir.resolve("emptydir").toString())));
        assertTrue(e.getMessage().contains("has no"), e.getMessage());
        Path secret = Corpora.write(dir.resolve("secret.txt"), "x");
        secret.toFile().setReadable(false, false);
        Assumptions.assumeFalse(Files.isReadable(secret), "running as root: file permissions do not stop reads, so "
                + "unreadable files cannot be tested here");
        IOException denied = assertThrows(IOException.class, () -> InputFiles.resolve(List.of(secret.toString())));
        assertTrue(denied.getMessage().contains("secret.txt"), denied.getMessage());
    }

    @Test
    void aManifestThatDoesNotMatchItsShardsIsRefused() throws IOException {
        Path src = Corpora.write(dir.resolve("src.txt"), String.join("\n\n", Corpora.documents(200, 1)));
        SourceSpec spec = new SourceSpec(List.of(src.toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
        Path out = dir.resolve("ds");
        ShardWriter.prepare(spec, TOK, new PrepareConfig(Split.byHash(0.1), 1, 4000, false), out, (a, b, c) -> { },
                new DataReport());
        try (ShardDataset ok = ShardDataset.open(out, TOK)) {
            ok.verifyChecksums();
        }

        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> ShardDataset.open(out,
                ByteTokenizer.wide()));
        assertTrue(other.getMessage().contains("another tokenizer"), other.getMessage());

        Path shard = out.resolve("train_000001.bin");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, Arrays.copyOf(bytes, bytes.length - 10));
        IOException truncated = assertThrows(IOException.class, () -> ShardDataset.open(out, TOK));
        assertTrue(truncated.getMessage().contains("train_000001.bin") && truncated.getMessage().contains("re-run"),
                truncated.getMessage());

        bytes[ShardHeader.BYTES + 7] ^= 1; // same size, damaged content
        Files.write(shard, bytes);
        try (ShardDataset ds = ShardDataset.open(out, TOK)) {
            IOException damaged = assertThrows(IOException.class, ds::verifyChecksums);
            assertTrue(damaged.getMessage().contains("SHA-256"), damaged.getMessage());
        }

        Files.delete(shard);
        assertThrows(NoSuchFileException.class, () -> ShardDataset.open(out, TOK));

        Path manifest = out.resolve(Manifest.FILE_NAME);
        Files.writeString(manifest, Files.readString(manifest).replace("\"version\": 1", "\"version\": 7"));
        IOException version = assertThrows(IOException.class, () -> ShardDataset.open(out, TOK));
        assertTrue(version.getMessage().contains("version 7"), version.getMessage());
        Files.writeString(manifest, "{ not json");
        assertThrows(IOException.class, () -> ShardDataset.open(out, TOK));
    }

    @Test
    void aFailedPrepareLeavesNothingAndAnExistingOutputIsKept() throws IOException {
        Path good = Corpora.write(dir.resolve("in/a.txt"), "some text");
        byte[] gz = Corpora.compress(CompressorStreamFactory.GZIP, bigText().getBytes(StandardCharsets.UTF_8));
        Path bad = Files.write(dir.resolve("in/z.gz"), Arrays.copyOf(gz, gz.length - 100));
        Path out = dir.resolve("prepared");
        IOException e = assertThrows(IOException.class,
                () -> ShardWriter.prepare(SourceSpec.textFiles(List.of(dir.resolve("in").toString())),
                TOK, PrepareConfig.defaults(Split.none()), out, (a, b, c) -> { }, new DataReport()));
        assertTrue(e.getMessage().contains("z.gz"), e.getMessage());
        try (var s = Files.list(dir)) {
            assertEquals(List.of(".prepared.lock", "in"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no output and no temporary folder remain (the lock file stays: deleting it would race)");
        }
        Manifest first = ShardWriter.prepare(SourceSpec.textFiles(List.of(good.toString())), TOK,
                PrepareConfig.defaults(Split.none()), out, (a, b, c) -> { }, new DataReport());
        IOException exists = assertThrows(IOException.class,
                () -> ShardWriter.prepare(SourceSpec.textFiles(List.of(good.toString())), TOK,
                PrepareConfig.defaults(Split.none()), out, (a, b, c) -> { }, new DataReport()));
        assertTrue(exists.getMessage().contains("--force"), exists.getMessage());
        assertThrows(IOException.class, () -> ShardWriter.prepare(SourceSpec.textFiles(List.of(bad.toString())), TOK,
                PrepareConfig.defaults(Split.none()).withOverwrite(true), out, (a, b, c) -> { }, new DataReport()));
        assertEquals(first.toJson(), Manifest.read(out).toJson(), "a failed overwrite keeps the old dataset");
    }
}
