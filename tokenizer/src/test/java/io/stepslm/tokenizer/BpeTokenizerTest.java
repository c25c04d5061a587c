package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTokenizerTest {

    static BpeTokenizer trained;

    @BeforeAll
    static void train() {
        List<String> corpus = new ArrayList<>(Fixtures.HARD);
        corpus.addAll(Fixtures.random(2000, 60, 3));
        trained = new BpeTrainer(BpeTrainerConfig.gpt2(800)).train(corpus.iterator()).tokenizer();
    }

    @Test
    void roundTripsEveryHardCaseAndRandomStrings() throws Exception {
        for (Tokenizer t : List.of(trained, TokenizerFiles.load(Fixtures.gpt2StyleFixture()))) {
            for (String s : Fixtures.HARD) {
                assertEquals(s, t.decode(t.encode(s)));
            }
            for (String s : Fixtures.random(3000, 50, 11)) {
                assertEquals(s, t.decode(t.encode(s)));
            }
            assertEquals(0, t.encode("").length);
            assertEquals("", t.decode(new int[0]));
        }
    }

    /** Oracle: the cached short/heap merge paths against a naive "lowest rank, leftmost" loop over strings. */
    @Test
    void fastMergeEqualsNaiveMerge() throws Exception {
        BpeTokenizer t = TokenizerFiles.loadBpe(Fixtures.gpt2StyleFixture());
        java.util.Map<String, Integer> rank = new java.util.HashMap<>();
        java.util.Map<String, Integer> idOf = new java.util.HashMap<>();
        for (int id = 0; id < t.vocabSize(); id++) {
            idOf.put(t.token(id), id);
        }
        List<int[]> merges = t.merges();
        for (int r = 0; r < merges.size(); r++) {
            rank.putIfAbsent(t.token(merges.get(r)[0]) + " " + t.token(merges.get(r)[1]), r);
        }
        List<String> pieces = new ArrayList<>();
        for (String s : Fixtures.HARD) {
            pieces.addAll(SplitPattern.GPT2.split(s));
        }
        pieces.add(" " + "the".repeat(400));
        pieces.add("e".repeat(129));
        pieces.add(" " + "ab".repeat(70) + "c");
        for (String piece : pieces) {
            byte[] utf8 = piece.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            List<String> sym = new ArrayList<>();
            for (byte b : utf8) {
                sym.add(String.valueOf(ByteLevel.BYTE_TO_CHAR[b & 0xFF]));
            }
            while (true) {
                int best = Integer.MAX_VALUE;
                int at = -1;
                for (int i = 0; i + 1 < sym.size(); i++) {
                    Integer r = rank.get(sym.get(i) + " " + sym.get(i + 1));
                    if (r != null && r < best) {
                        best = r;
                        at = i;
                    }
                }
                if (at < 0) {
                    break;
                }
                sym.set(at, sym.get(at) + sym.remove(at + 1));
            }
            int[] expected = sym.stream().mapToInt(idOf::get).toArray();
            assertArrayEquals(expected, t.encodePieceUncached(piece), () -> "piece " + piece);
        }
    }

    @Test
    void saveLoadGivesIdenticalIdsAndFingerprint(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/tokenizer.json");
        trained.save(file);
        BpeTokenizer loaded = TokenizerFiles.loadBpe(file);
        assertEquals(trained.fingerprint(), loaded.fingerprint());
        assertEquals(trained.vocabSize(), loaded.vocabSize());
        assertEquals(trained.endOfTextId(), loaded.endOfTextId());
        for (String s : Fixtures.HARD) {
            assertArrayEquals(trained.encode(s), loaded.encode(s));
        }
        // a GPT-2 layout file ("a b" merges) re-saved in our layout encodes the same
        BpeTokenizer fixture = TokenizerFiles.loadBpe(Fixtures.gpt2StyleFixture());
        fixture.save(dir.resolve("resaved.json"));
        BpeTokenizer resaved = TokenizerFiles.loadBpe(dir.resolve("resaved.json"));
        assertArrayEquals(fixture.encode(Fixtures.hardText()), resaved.encode(Fixtures.hardText()));
        try (var files = Files.list(dir.resolve("sub"))) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void batchEncodingEqualsSequential() {
        List<String> texts = Fixtures.random(500, 200, 5);
        int[][] batch = trained.encodeBatch(texts, 4);
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(trained.encode(texts.get(i)), batch[i]);
        }
    }

    @Test
    void decodeRefusesForeignIds() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> trained.decode(new int[] {1, 800}));
        assertTrue(e.getMessage().contains("800"), e.getMessage());
    }

    private static IllegalArgumentException loadFails(Path dir, String name, String json) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerFiles.load(f));
        assertTrue(e.getMessage().contains(name), e.getMessage());
        return e;
    }

    @Test
    void badFilesAreRefusedWithTheFileAndTheProblem(@TempDir Path dir) throws Exception {
        String good = Files.readString(Fixtures.gpt2StyleFixture());
        assertTrue(loadFails(dir, "truncated.json", good.substring(0, good.length() / 2)).getMessage()
                .contains("truncated"));
        assertTrue(loadFails(dir, "garbage.json", "{\"model\": nope}").getMessage().contains("malformed"));
        assertTrue(loadFails(dir, "array.json", "[1, 2]").getMessage().contains("not a JSON object"));
        assertTrue(loadFails(dir, "other.json", "{\"foo\": 1}").getMessage().contains("not a tokenizer file"));
        JsonObject badId = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        badId.getAsJsonObject("model").getAsJsonObject("vocab").addProperty("zzz", "not a number");
        assertTrue(loadFails(dir, "badid.json", badId.toString()).getMessage().contains("wrong kind of value"));

        JsonObject wordPiece = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        wordPiece.getAsJsonObject("model").addProperty("type", "WordPiece");
        assertTrue(loadFails(dir, "wordpiece.json", wordPiece.toString()).getMessage()
                .contains("unsupported model type 'WordPiece'"));

        JsonObject metaspace = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        JsonObject pre = new JsonObject();
        pre.addProperty("type", "Metaspace");
        metaspace.add("pre_tokenizer", pre);
        assertTrue(loadFails(dir, "metaspace.json", metaspace.toString()).getMessage()
                .contains("unsupported pre_tokenizer Metaspace"));

        JsonObject nfkc = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        JsonObject norm = new JsonObject();
        norm.addProperty("type", "NFKC");
        nfkc.add("normalizer", norm);
        assertTrue(loadFails(dir, "nfkc.json", nfkc.toString()).getMessage().contains("unsupported normalizer NFKC"));

        JsonObject badMerge = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        JsonArray merges = badMerge.getAsJsonObject("model").getAsJsonArray("merges");
        merges.set(3, new com.google.gson.JsonPrimitive("nosuch token"));
        assertTrue(loadFails(dir, "badmerge.json", badMerge.toString()).getMessage().contains("merge 4"));

        JsonObject regex = TokenizerFiles.readJson(dir.resolve("wordpiece.json"));
        regex.getAsJsonObject("model").addProperty("type", "BPE");
        JsonObject split = new JsonObject();
        split.addProperty("type", "Split");
        JsonObject p = new JsonObject();
        p.addProperty("Regex", "\\w+");
        split.add("pattern", p);
        split.addProperty("behavior", "Isolated");
        JsonObject seq = new JsonObject();
        seq.addProperty("type", "Sequence");
        JsonArray list = new JsonArray();
        list.add(split);
        JsonObject bl = new JsonObject();
        bl.addProperty("type", "ByteLevel");
        bl.addProperty("use_regex", false);
        list.add(bl);
        seq.add("pretokenizers", list);
        regex.add("pre_tokenizer", seq);
        assertTrue(loadFails(dir, "regex.json", regex.toString()).getMessage()
                .contains("unsupported split regex \\w+"));

        Files.write(dir.resolve("binary.json"), new byte[] {(byte) 0xFF, (byte) 0xFE, 0});
        IllegalArgumentException bin = assertThrows(IllegalArgumentException.class,
                () -> TokenizerFiles.load(dir.resolve("binary.json")));
        assertTrue(bin.getMessage().contains("binary.json") && bin.getMessage().contains("UTF-8"), bin.getMessage());
        Path folder = Files.createDirectories(dir.resolve("folder.json"));
        java.io.IOException isDir = assertThrows(java.io.IOException.class, () -> TokenizerFiles.load(folder));
        assertTrue(isDir.getMessage().contains("folder.json") && isDir.getMessage().contains("directory"),
                isDir.getMessage());
        java.io.IOException missing = assertThrows(java.io.IOException.class,
                () -> TokenizerFiles.load(dir.resolve("missing.json")));
        assertTrue(missing.getMessage().contains("missing.json"), missing.getMessage());
    }
}
