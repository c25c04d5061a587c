package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.Tokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Incremental text: whole characters only, stop strings across token boundaries held back and cut. */
class TextStreamTest {

    /** Byte-level BPE with only a few merges: a 2-byte or 4-byte character is several tokens. */
    private static final Tokenizer BYTES = new BpeTrainer(BpeTrainerConfig.gpt2(256 + 1 + 4))
            .train(List.of("hello hello world").iterator()).tokenizer();

    private static String feed(TextStream stream, String text, StringBuilder releases) {
        StringBuilder out = new StringBuilder();
        for (int id : BYTES.encode(text)) {
            String piece = stream.accept(id);
            releases.append('[').append(piece).append(']');
            out.append(piece);
        }
        return out.toString();
    }

    @Test
    void incompleteCharactersAreHeldUntilComplete() {
        String text = "caf\u00e9 \uD83D\uDE00!";
        assertTrue(BYTES.encode(text).length > text.codePointCount(0, text.length()), "multi-byte characters split");
        TextStream stream = new TextStream(BYTES, List.of());
        StringBuilder releases = new StringBuilder();
        String out = feed(stream, text, releases) + stream.flush();
        assertEquals(text, out);
        assertTrue(!releases.toString().contains("\uFFFD"), releases.toString());
    }

    @Test
    void aStopStringEndsTheTextEvenAcrossTokensAndItsPrefixWaits() {
        TextStream stream = new TextStream(BYTES, List.of("\nUser:", "END"));
        StringBuilder releases = new StringBuilder();
        String out = feed(stream, "hello\nUse", releases);
        assertEquals("hello", out, "\"\\nUse\" may start a stop string: held back");
        assertEquals("", feed(stream, "r: more", releases));
        assertTrue(stream.stopped());
        assertEquals("", stream.flush());

        TextStream notStop = new TextStream(BYTES, List.of("\nUser:"));
        assertEquals("a", feed(notStop, "a\nUs", new StringBuilder()));
        assertEquals("\nUsb", feed(notStop, "b", new StringBuilder()), "no stop string after all: released");
        assertEquals("", notStop.flush());
        assertTrue(!notStop.stopped());

        TextStream earliest = new TextStream(BYTES, List.of("lo", "hel"));
        assertEquals("", feed(earliest, "hello", new StringBuilder()) + earliest.flush(), "the earliest match wins");
    }
}
