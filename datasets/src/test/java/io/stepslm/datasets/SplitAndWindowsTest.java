package io.stepslm.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitAndWindowsTest {
    private static final ByteTokenizer TOK = ByteTokenizer.narrow();

    @TempDir
    Path dir;

    /** Decodes a token stream and cuts it at end-of-text: the documents it carries (the last one may be partial). */
    private static List<String> documentsIn(int[] stream) {
        String text = TOK.decode(stream);
        String endOfText = java.util.regex.Pattern.quote(io.stepslm.tokenizer.Tokenizer.END_OF_TEXT);
        List<String> docs = new ArrayList<>(List.of(text.split(endOfText, -1)));
        docs.remove(docs.size() - 1); // after the last end-of-text: a partial document or nothing
        return docs;
    }

    private int[] stream(SourceSpec spec, Split split, Split.Part part) throws IOException {
        StreamingConfig cfg = new StreamingConfig(8, 2, 0, false, split, part);
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, cfg, LoaderState.initial(3))) {
            List<int[]> windows = Corpora.drain(l);
            for (int i = 0; i + 1 < windows.size(); i++) {
                // T + 1 windows: the targets of window i (ids 1..T) are its inputs shifted by one, and its last id is
                // the first input of window i + 1, so no target is lost between windows.
                assertEquals(9, windows.get(i).length);
                assertEquals(windows.get(i)[8], windows.get(i + 1)[0]);
            }
            return Corpora.unwindow(windows);
        }
    }

    @Test
    void noDocumentCrossesTheHashSplitAndTogetherTheyCoverTheCorpus() throws IOException {
        List<String> docs = Corpora.documents(400, 11);
        StringBuilder sb = new StringBuilder();
        for (String d : docs) {
            sb.append(d).append("\n\n");
        }
        // The corpus twice, in two files: exact duplicates must land on the same side.
        Corpora.write(dir.resolve("a.txt"), sb.toString());
        Corpora.write(dir.resolve("b.txt"), sb.toString());
        SourceSpec spec = new SourceSpec(List.of(dir.toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
        Split split = Split.byHash(0.25);
        List<String> train = documentsIn(stream(spec, split, Split.Part.TRAIN));
        List<String> val = documentsIn(stream(spec, split, Split.Part.VALIDATION));
        Set<String> trainSet = new HashSet<>(train);
        for (String v : val) {
            assertFalse(trainSet.contains(v), "in both splits: " + v);
        }
        assertTrue(val.size() > 2 * 400 * 0.15 && val.size() < 2 * 400 * 0.35,
                "about a quarter is validation: " + val.size());
        Set<String> all = new HashSet<>(trainSet);
        all.addAll(val);
        // Every document is on one side (the stream drops only the partial last window of each side).
        assertTrue(all.size() >= docs.size() - 2, all.size() + " of " + docs.size());
        for (String d : all) {
            assertTrue(docs.contains(d), "a document came out altered: " + d);
        }
        assertEquals(Split.Part.VALIDATION, split.partOf("x", val.get(0)), "the side depends on the text alone");
    }

    @Test
    void splitByFileHoldsOutWholeFilesAndLongDocumentsStayWhole() throws IOException {
        StringBuilder longDoc = new StringBuilder();
        while (longDoc.length() < Documents.PIECE_CHARS * 2) {
            longDoc.append("persuasion line ").append(longDoc.length()).append('\n');
        }
        Corpora.write(dir.resolve("austen/persuasion.txt"), longDoc.toString());
        Corpora.write(dir.resolve("austen/emma.txt"), "Emma Woodhouse, handsome, clever, and rich.");
        SourceSpec spec = SourceSpec.textFiles(List.of(dir.resolve("austen").toString()));
        Split split = Split.byFile(List.of("persuasion.txt"));
        int[] val = stream(spec, split, Split.Part.VALIDATION);
        int[] train = stream(spec, split, Split.Part.TRAIN);
        String trainText = TOK.decode(train);
        assertTrue("Emma Woodhouse, handsome, clever, and rich.<|endoftext|>".startsWith(trainText)
                && trainText.length() > 30, trainText);
        String valText = TOK.decode(val);
        assertTrue(longDoc.toString().startsWith(valText.substring(0, valText.length() - 20)),
                "the validation stream is persuasion, in order");
        assertFalse(valText.contains("Emma"));
        assertEquals(Split.Part.VALIDATION, Split.byFile(List.of("**/val/*.jsonl")).partOf("/d/val/x.jsonl", ""));
        assertEquals(Split.Part.VALIDATION, Split.byFile(List.of("b.txt")).partOf("/d/a.tar.gz!/docs/b.txt", ""));
        assertEquals(Split.Part.TRAIN, Split.byFile(List.of("b.txt")).partOf("/d/ab.txt", ""));
    }

    @Test
    void windowsCarryExactlyTheTokenStream() throws IOException {
        List<String> docs = Corpora.documents(30, 5);
        StringBuilder sb = new StringBuilder();
        List<int[]> expected = new ArrayList<>();
        for (String d : docs) {
            sb.append(d).append("\n\n");
            expected.add(TOK.encode(d));
            expected.add(new int[] {TOK.endOfTextId()});
        }
        Corpora.write(dir.resolve("d.txt"), sb.toString());
        int[] all = Corpora.concat(expected);
        SourceSpec spec =
                new SourceSpec(List.of(dir.resolve("d.txt").toString()), TextFormat.TEXT_BLOCKS, "text", OnError.FAIL);
        int[] got = stream(spec, Split.none(), Split.Part.TRAIN);
        assertEquals((all.length - 1) / 8 * 8 + 1, got.length, "(N - 1) / T full windows");
        assertArrayEquals(java.util.Arrays.copyOf(all, got.length), got);
    }

    @Test
    void aTrainingStreamWithNoDocumentOnItsSideFailsInsteadOfSpinning() throws IOException {
        Corpora.write(dir.resolve("only/persuasion.txt"), "all of it is validation");
        SourceSpec spec = SourceSpec.textFiles(List.of(dir.resolve("only").toString()));
        StreamingConfig cfg = StreamingConfig.training(4, Split.byFile(List.of("persuasion.txt"))).withThreads(1);
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, cfg, LoaderState.initial(0))) {
            IllegalArgumentException e =
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, l::hasNext);
            assertTrue(e.getMessage().contains("train part") && e.getMessage().contains("validation file names"),
                    e.getMessage());
        }
        StreamingConfig validation = cfg.withPart(Split.Part.VALIDATION).withCycle(false);
        try (StreamingLoader l = StreamingLoader.open(spec, TOK, validation, LoaderState.initial(0))) {
            assertTrue(l.hasNext());
        }
    }

    @Test
    void splitFractionIsValidated() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Split.byHash(1.0));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Split.byHash(-0.1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Split(0.1, List.of("a.txt")));
    }
}
