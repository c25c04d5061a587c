package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our encoder against HuggingFace tokenizers (through djl-tokenizers) on the same tokenizer.json: identical ids on
 * the hard cases and on random strings, for a tokenizer we trained (GPT-2 and cl100k patterns), for a GPT-2-style
 * fixture ("a b" merges, &lt;|endoftext|&gt; inside the model vocab) and for its add_prefix_space=true variant.
 */
class HuggingFaceParityTest {

    @TempDir
    static Path dir;

    static Path trainedGpt2;
    static Path trainedCl100k;
    static Path prefixSpace;

    @BeforeAll
    static void tokenizers() throws Exception {
        List<String> corpus = new ArrayList<>(Fixtures.HARD);
        corpus.addAll(Fixtures.random(3000, 60, 1));
        trainedGpt2 = dir.resolve("trained-gpt2.json");
        new BpeTrainer(BpeTrainerConfig.gpt2(900).withSpecialTokens(List.of(Tokenizer.END_OF_TEXT, "<|user|>")))
                .train(corpus.iterator()).tokenizer().save(trainedGpt2);
        trainedCl100k = dir.resolve("trained-cl100k.json");
        new BpeTrainer(BpeTrainerConfig.cl100k(900)).train(corpus.iterator()).tokenizer().save(trainedCl100k);
        JsonObject fixture = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        fixture.getAsJsonObject("pre_tokenizer").addProperty("add_prefix_space", true);
        prefixSpace = dir.resolve("prefix-space.json");
        Files.writeString(prefixSpace, fixture.toString());
    }

    /**
     * The fixture without the tokens of control bytes 0-8 and 14-31 (as HF's trainer writes when it never saw
     * them).
     */
    private static Path missingBytes(String name, String unk, boolean fuseUnk) throws Exception {
        JsonObject json = TokenizerFiles.readJson(Fixtures.gpt2StyleFixture());
        JsonObject model = json.getAsJsonObject("model");
        JsonObject vocab = model.getAsJsonObject("vocab");
        String merges = model.get("merges").toString();
        for (int b = 0; b < 32; b++) {
            String token = String.valueOf(ByteLevel.BYTE_TO_CHAR[b]);
            if ((b <= 8 || b >= 14) && !merges.contains(token)) {
                vocab.remove(token);
            }
        }
        if (!unk.isEmpty()) {
            vocab.addProperty(unk, 5000);
            model.addProperty("unk_token", unk);
        }
        model.addProperty("fuse_unk", fuseUnk);
        Path file = dir.resolve(name);
        Files.writeString(file, json.toString());
        return file;
    }

    @Test
    void vocabularyWithoutSomeByteTokens() throws Exception {
        assertParity(missingBytes("dropped.json", "", false));
        assertParity(missingBytes("unk.json", "<unk>", false));
        assertParity(missingBytes("fused-unk.json", "<unk>", true));
        Tokenizer fused = TokenizerFiles.load(dir.resolve("fused-unk.json"));
        assertArrayEquals(new int[] {5000}, fused.encode("\u0001\u0002\u0003"));
        assertArrayEquals(new int[] {5000, 5000, 5000},
                TokenizerFiles.load(dir.resolve("unk.json")).encode("\u0001\u0002\u0003"));
        assertEquals(0, TokenizerFiles.load(dir.resolve("dropped.json")).encode("\u0001\u0002").length);
    }

    private static List<String> texts() {
        List<String> texts = new ArrayList<>(Fixtures.HARD);
        texts.add(Fixtures.hardText());
        texts.add("<|user|>hi<|endoftext|>");
        texts.addAll(Fixtures.random(1500, 80, 2));
        return texts;
    }

    private static void assertParity(Path file) throws Exception {
        Tokenizer ours = TokenizerFiles.load(file);
        List<String> texts = texts();
        try (HuggingFaceTokenizer hf = Fixtures.huggingFace(file)) {
            Encoding[] theirs = hf.batchEncode(texts);
            for (int i = 0; i < texts.size(); i++) {
                String s = texts.get(i);
                assertArrayEquals(Fixtures.ids(theirs[i]), ours.encode(s), () -> file.getFileName() + " differs on "
                        + s.codePoints().limit(200).mapToObj(cp -> String.format("%04x", cp)).toList());
            }
        }
    }

    @Test
    void trainedGpt2Pattern() throws Exception {
        assertParity(trainedGpt2);
    }

    @Test
    void trainedCl100kPattern() throws Exception {
        assertParity(trainedCl100k);
    }

    @Test
    void gpt2StyleFixture() throws Exception {
        assertParity(Fixtures.gpt2StyleFixture());
    }

    @Test
    void gpt2StyleFixtureWithPrefixSpace() throws Exception {
        assertParity(prefixSpace);
    }

    @Test
    void decodeMatchesHuggingFace() throws Exception {
        for (Path file : List.of(trainedGpt2, Fixtures.gpt2StyleFixture())) {
            Tokenizer ours = TokenizerFiles.load(file);
            try (HuggingFaceTokenizer hf = Fixtures.huggingFace(file)) {
                for (String s : Fixtures.HARD) {
                    int[] ids = ours.encode(s);
                    assertEquals(hf.decode(java.util.Arrays.stream(ids).asLongStream().toArray(), false),
                            ours.decode(ids));
                    assertEquals(s, ours.decode(ids));
                }
            }
        }
    }

    /** All six Austen novels, paragraph by paragraph, with a tokenizer trained on them and with the fixture. */
    @Test
    @Tag("slow")
    void austenNovels() throws Exception {
        Path austen = Fixtures.sharedData().resolve("austen");
        List<Path> files = Fixtures.AUSTEN.stream().map(austen::resolve).toList();
        Path trained = dir.resolve("austen.json");
        BpeTrainer.Result r = new BpeTrainer(BpeTrainerConfig.gpt2(8192)).train(files);
        r.tokenizer().save(trained);
        List<String> paragraphs = new ArrayList<>();
        for (Path f : files) {
            for (String p : Files.readString(f).split("(?<=\n\n)")) {
                paragraphs.add(p);
            }
        }
        for (Path file : List.of(trained, Fixtures.gpt2StyleFixture())) {
            Tokenizer ours = TokenizerFiles.load(file);
            int[][] mine = ours.encodeBatch(paragraphs);
            try (HuggingFaceTokenizer hf = Fixtures.huggingFace(file)) {
                Encoding[] theirs = hf.batchEncode(paragraphs);
                long tokens = 0;
                for (int i = 0; i < paragraphs.size(); i++) {
                    int k = i;
                    assertArrayEquals(Fixtures.ids(theirs[i]), mine[i],
                            () -> file.getFileName() + " differs on paragraph " + k);
                    assertEquals(paragraphs.get(i), ours.decode(mine[i]));
                    tokens += mine[i].length;
                }
                assertEquals(true, tokens > 0);
            }
        }
    }
}
