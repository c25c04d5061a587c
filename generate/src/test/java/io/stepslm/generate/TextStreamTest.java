package io.stepslm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextStreamTest {

    /** A byte-level decoder: id i < 256 is the byte i (as byte-level BPE), decoded as UTF-8 with replacement. */
    static final TokenDecoder BYTES = ids -> {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : ids) {
            b.write(id);
        }
        return b.toString(StandardCharsets.UTF_8);
    };

    private static int[] utf8(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    }

    @Test
    void halfCharactersAreHeldUntilCompleteAndACutOffOneIsLeftOut() {
        TextStream t = new TextStream(BYTES, List.of());
        StringBuilder shown = new StringBuilder();
        int[] ids = utf8("aé€😀");
        for (int id : ids) {
            String chunk = t.accept(id);
            assertFalse(chunk.contains("\uFFFD"), "a half character was released: " + chunk);
            shown.append(chunk);
        }
        assertEquals("aé€😀", shown.toString());
        // generation ends after the first byte of a two-byte character: it is never shown
        assertEquals("", t.accept(0xC3));
        assertEquals("", t.finish());
        assertEquals("aé€😀", t.text());
    }

    @Test
    void aStopStringSpanningTokensEndsTheTextRightBeforeIt() {
        TextStream t = new TextStream(BYTES, List.of("\nEND", "xyz"));
        StringBuilder shown = new StringBuilder();
        for (int id : utf8("one\nEN")) {
            shown.append(t.accept(id));
        }
        assertEquals("one", shown.toString(), "'\\nEN' could begin the stop string: held back");
        assertFalse(t.stopped());
        shown.append(t.accept('D'));
        assertTrue(t.stopped());
        assertEquals("one", shown.toString());
        assertEquals("one", t.text());
        assertEquals("", t.finish());
    }

    @Test
    void heldTextThatTurnsOutNotToBeAStopIsReleased() {
        TextStream t = new TextStream(BYTES, List.of("\nEND"));
        StringBuilder shown = new StringBuilder();
        for (int id : utf8("a\nEN!b\nE")) {
            shown.append(t.accept(id));
        }
        assertEquals("a\nEN!b", shown.toString());
        shown.append(t.finish());
        assertEquals("a\nEN!b\nE", shown.toString());
        assertEquals(shown.toString(), t.text());
    }
}
