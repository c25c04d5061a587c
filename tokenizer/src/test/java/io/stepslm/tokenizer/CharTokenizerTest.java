package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharTokenizerTest {

    @Test
    void vocabularyIsSortedDistinctCodePointsPlusEndOfText() {
        CharTokenizer t = CharTokenizer.fromText("hello world");
        // sorted(set("hello world")) = [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']
        assertEquals(9, t.vocabSize());
        assertEquals(8, t.endOfTextId());
        assertArrayEquals(new int[] {3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1}, t.encode("hello world"));
        assertArrayEquals(new int[] {3, 8, 0}, t.encode("h<|endoftext|> "));
    }

    @Test
    void roundTripsEmojiCjkAndSpecials() {
        String text = "naïve 日本語 👍🏽 e\u0301\r\n<|endoftext|>x";
        CharTokenizer t = CharTokenizer.fromText(text);
        assertEquals(text, t.decode(t.encode(text)));
        assertEquals("", t.decode(t.encode("")));
    }

    @Test
    void unknownCharacterIsRefusedWithItsIndex() {
        CharTokenizer t = CharTokenizer.fromText("abc");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("abz"));
        assertTrue(e.getMessage().contains("'z'") && e.getMessage().contains("index 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {4}));
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromText(""));
    }

    @Test
    void saveLoadGivesIdenticalIdsAndFingerprint(@TempDir Path dir) throws Exception {
        String text = "To be, or not to be: 🙂";
        CharTokenizer t = CharTokenizer.fromText(text);
        Path file = dir.resolve("char.json");
        t.save(file);
        Tokenizer loaded = TokenizerFiles.load(file);
        assertArrayEquals(t.encode(text), loaded.encode(text));
        assertEquals(t.fingerprint(), loaded.fingerprint());
        assertEquals(64, t.fingerprint().length());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
        // the saved file is readable like any other the user creates there (the umask decides, not 0600)
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file));
    }
}
