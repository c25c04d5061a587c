package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {

    private static List<String> mergeStrings(BpeTokenizer t) {
        return t.merges().stream().map(m -> t.token(m[0]) + " " + t.token(m[1])).collect(Collectors.toList());
    }

    @Test
    void knownAnswerOnWikipediaExample() {
        // "aaabdaaabac": pairs aa=4 -> merge (a,a); then (aa,a)=2 ties (a,b)=2 and (a,b) wins on smaller ids
        // (a=64 < aa=256); then (aa,ab)=2; the remaining pairs occur once, below the minimum frequency 2.
        BpeTrainerConfig config = new BpeTrainerConfig(1000, 2, List.of(Tokenizer.END_OF_TEXT), SplitPattern.GPT2);
        BpeTrainer.Result r = new BpeTrainer(config).train(List.of("aaabdaaabac").iterator());
        BpeTokenizer t = r.tokenizer();
        assertEquals(List.of("a a", "a b", "aa ab"), mergeStrings(t));
        assertEquals("aa", t.token(256));
        assertEquals("ab", t.token(257));
        assertEquals("aaab", t.token(258));
        assertEquals(259, t.endOfTextId());
        assertEquals(260, t.vocabSize());
        assertArrayEquals(new int[] {258, 'd' - 33, 258, 'a' - 33, 'c' - 33}, t.encode("aaabdaaabac"));
        assertArrayEquals(new int[] {258, 259, 'b' - 33}, t.encode("aaab<|endoftext|>b"));
        assertEquals(3, r.stats().merges());
        assertEquals(11, r.stats().bytes());
        assertTrue(r.stats().stopReason().contains("minimum frequency"), r.stats().stopReason());
    }

    @Test
    void knownAnswerWithSpacesAndVocabularyLimit() {
        // GPT-2 split: "low", " low", " lower", " lowest" ... the space byte 'Ġ' is id 220, as in GPT-2.
        String text = "low low low lower lowest newer newest";
        BpeTrainerConfig config =
                new BpeTrainerConfig(256 + 4 + 1, 1, List.of(Tokenizer.END_OF_TEXT), SplitPattern.GPT2);
        BpeTokenizer t = new BpeTrainer(config).train(List.of(text).iterator()).tokenizer();
        // 'l'=75,'o'=78 -> (l,o) before (o,w) ('o'=78,'w'=86); then eight pairs tie at 2 and (e,r) = (68, 81)
        // is the smallest: (e,s) = (68, 82), (e,w) = (68, 86), (w,e) = (86, 68), (Ġlow,e) = (258, 68)
        assertEquals(List.of("l o", "lo w", "Ġ low", "e r"), mergeStrings(t));
        assertEquals(220, t.encode(" ")[0]);
        assertEquals(261, t.vocabSize());
        assertArrayEquals(new int[] {257, 258, 258, 258, 259}, t.encode("low low low lower"));
    }

    @Test
    void specialTokensAreNeverCountedOrMerged() {
        BpeTrainerConfig config =
                new BpeTrainerConfig(300, 1, List.of(Tokenizer.END_OF_TEXT, "<|user|>"), SplitPattern.GPT2);
        BpeTokenizer t = new BpeTrainer(config)
                .train(List.of("<|endoftext|><|endoftext|><|user|>ab<|user|>ab").iterator()).tokenizer();
        assertEquals(List.of("a b"), mergeStrings(t));
        assertEquals(257, t.endOfTextId());
        assertArrayEquals(new int[] {258, 256, 257}, t.encode("<|user|>ab<|endoftext|>"));
    }

    @Test
    void identicalResultsFromFilesAndFromStrings(@TempDir Path dir) throws Exception {
        String text = Fixtures.hardText().repeat(3);
        Path folder = Files.createDirectories(dir.resolve("corpus"));
        Files.writeString(folder.resolve("a.txt"), text);
        BpeTrainerConfig config = BpeTrainerConfig.gpt2(600);
        BpeTokenizer fromFiles = new BpeTrainer(config).train(List.of(folder)).tokenizer();
        BpeTokenizer fromStrings = new BpeTrainer(config).train(List.of(text).iterator()).tokenizer();
        assertEquals(fromStrings.fingerprint(), fromFiles.fingerprint());
    }

    @Test
    void largeFilesAreReadInBlocksWithoutChangingCounts(@TempDir Path dir) throws Exception {
        // > 2 blocks of 1M characters, multi-byte characters across the 64 KB read buffers, specials, CRLF
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 2_600_000; i++) {
            b.append("Émile's 日本 👍🏽 word").append(i % 301).append(i % 11 == 0 ? "<|endoftext|>" : " ")
                    .append(i % 5 == 0 ? ".\r\n\r\n  " : "");
        }
        String text = b.toString();
        Path f = Files.writeString(dir.resolve("big.txt"), text);
        BpeTrainerConfig config = BpeTrainerConfig.gpt2(700);
        BpeTrainer.Result fromFile = new BpeTrainer(config).train(List.of(f));
        BpeTrainer.Result fromString = new BpeTrainer(config).train(List.of(text).iterator());
        assertEquals(fromString.stats().pretokens(), fromFile.stats().pretokens());
        assertEquals(fromString.stats().bytes(), fromFile.stats().bytes());
        assertEquals(0, fromFile.stats().invalidUtf8Replaced());
        assertEquals(fromString.tokenizer().fingerprint(), fromFile.tokenizer().fingerprint());
    }

    @Test
    void blocksNeverSplitASpecialToken(@TempDir Path dir) throws Exception {
        // every letter->'|' inside <|endoftext|> would be a safe cut for plain text; inside a special it is not
        String text = "ab<|endoftext|>".repeat(200_000);
        assertEquals(17, CorpusFiles.outsideSpecials(text, 20, List.of(Tokenizer.END_OF_TEXT, "<|x|>")));
        assertEquals(15, CorpusFiles.outsideSpecials(text, 15, List.of(Tokenizer.END_OF_TEXT)));
        Path f = Files.writeString(dir.resolve("specials.txt"), text);
        BpeTrainer.Result fromFile = new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(f));
        assertEquals(200_000, fromFile.stats().pretokens(), "only the 'ab' pieces are counted");
    }

    @Test
    void textWithoutSpacesIsStillReadInBlocks(@TempDir Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 2_300_000; i++) {
            b.append("中文字符").append(i % 7 == 0 ? "，" : "").append(i % 13 == 0 ? "𠀀𠀁" : "").append(i % 97).append("。");
        }
        String text = b.toString();
        assertTrue(CorpusFiles.safeCut(text, 1_000_000) > 999_000);
        Path f = Files.writeString(dir.resolve("zh.txt"), text);
        BpeTrainerConfig config = BpeTrainerConfig.cl100k(500);
        BpeTrainer.Result fromFile = new BpeTrainer(config).train(List.of(f));
        BpeTrainer.Result fromString = new BpeTrainer(config).train(List.of(text).iterator());
        assertEquals(fromString.stats().pretokens(), fromFile.stats().pretokens());
        assertEquals(fromString.tokenizer().fingerprint(), fromFile.tokenizer().fingerprint());
        // the whole string as one piece per 2-3 characters, checked against one unsplit split
        assertEquals(SplitPattern.CL100K.split(text).size(), fromFile.stats().pretokens());
    }

    @Test
    void largeTextsAreCutWithoutChangingCounts() {
        // a text over the 256K-character piece size is counted in parallel pieces; the result equals counting
        // the same text delivered as many small texts split at the same safe places
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 600_000; i++) {
            b.append("word").append(i % 97).append(i % 7 == 0 ? ".\n\n" : " ");
        }
        String text = b.toString();
        BpeTrainerConfig config = BpeTrainerConfig.gpt2(400);
        BpeTrainer.Result whole = new BpeTrainer(config).train(List.of(text).iterator());
        int cut = CorpusFiles.safeCut(text, 300_000);
        BpeTrainer.Result split =
                new BpeTrainer(config).train(List.of(text.substring(0, cut), text.substring(cut)).iterator());
        assertTrue(cut > 250_000 && cut <= 300_000, "cut at " + cut);
        assertEquals(whole.stats().pretokens(), split.stats().pretokens());
        assertEquals(SplitPattern.GPT2.split(text).size(), whole.stats().pretokens());
        assertEquals(whole.tokenizer().fingerprint(), split.tokenizer().fingerprint());
    }

    @Test
    void invalidUtf8IsReplacedAndCounted(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.txt");
        byte[] good = "hello there ".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[good.length * 2 + 3];
        System.arraycopy(good, 0, bytes, 0, good.length);
        bytes[good.length] = (byte) 0xC3; // truncated 2-byte sequence
        bytes[good.length + 1] = (byte) 0xFF; // never valid
        bytes[good.length + 2] = (byte) 0x80; // lone continuation byte
        System.arraycopy(good, 0, bytes, good.length + 3, good.length);
        Files.write(f, bytes);
        BpeTrainer.Result r = new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(f));
        assertEquals(3, r.stats().invalidUtf8Replaced());
        assertTrue(r.tokenizer().mergeCount() > 0);
    }

    @Test
    void badInputsNameTheProblem(@TempDir Path dir) throws Exception {
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> BpeTrainerConfig.gpt2(256));
        assertTrue(small.getMessage().contains("at least 257"), small.getMessage());
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(empty)));
        assertTrue(e.getMessage().contains("empty.txt") && e.getMessage().contains("empty"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of("<|endoftext|>").iterator()));
        Path missing = dir.resolve("missing.txt");
        java.io.IOException io = assertThrows(java.io.IOException.class,
                () -> new BpeTrainer(BpeTrainerConfig.gpt2(300)).train(List.of(missing)));
        assertTrue(io.getMessage().contains("missing.txt"), io.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainerConfig(300, -1, List.of(), SplitPattern.GPT2));
        assertThrows(IllegalArgumentException.class,
                () -> new BpeTrainerConfig(300, 1, List.of("a", "a"), SplitPattern.GPT2));
    }

    @Test
    void mergeWordIsLeftToRightAndNonOverlapping() {
        assertArrayEquals(new int[] {9, 9}, BpeTrainer.mergeWord(new int[] {1, 1, 1, 1}, 1, 1, 9));
        assertArrayEquals(new int[] {9, 1}, BpeTrainer.mergeWord(new int[] {1, 1, 1}, 1, 1, 9));
        int[] none = {1, 2};
        assertEquals(none, BpeTrainer.mergeWord(none, 2, 1, 9));
    }
}
