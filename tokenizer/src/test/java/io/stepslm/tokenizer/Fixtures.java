package io.stepslm.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;

/** Test texts and helpers shared by the tokenizer tests. */
final class Fixtures {
    private Fixtures() {}

    /**
     * The hard cases the issue lists: CJK, emoji, combining marks, control characters, CRLF, long runs. The committed
     * hf-trained-tokenizer.json was trained on text built from this list and {@link #random}: after changing either,
     * regenerate it as {@link HfTrainerParityTest} describes.
     */
    static final List<String> HARD = List.of(
            "",
            "Hello, world! It's a truth universally acknowledged; we'll see, they've gone, I'm here, he'd know.",
            "SHOUTING'S FINE: I'LL SEE, YOU'RE RIGHT, 'TIS 'Twas o'clock rock'n'roll ''quoted'' '",
            "日本語のテキスト、中文文本。한국어 텍스트입니다.",
            "emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 hearts ❤️🧡 keycap 1️⃣ 🙂🙃",
            "combining: e\u0301 a\u0308 n\u0303 Z\u0351\u0352\u0353 हिन्दी ภาษาไทย العربية עִבְרִית",
            "controls:\u0000\u0001\u0007\b\u001b[31mred\u001b[0m\u001c\u001d\u001e\u001f\u007f\u0085"
                    + " and\u00a0nbsp\u2028ls\u2029ps\u3000ideo\u200bzw",
            "windows\r\nline\r\n\r\nendings\r\n  \r\n\ttabs\t\tand\u000bvt\u000cff\n\n\n",
            "spaces:" + " ".repeat(300) + "end" + " ".repeat(17) + "\n" + " ".repeat(5),
            "digits 0123456789012345678901234567890123456789 3.14159 1,000,000 ٣٤٥ ⅣⅫ ½ ²³ 2024-11-27T03:50Z",
            "punctuation!!! ??? ... --- ((( ))) {[<>]} @#$%^&*_+=|\\/~` « » „ “ ” ‘ ’ — – …",
            "mixed<|endoftext|>special<|endoftext|><|endoftext|> tokens <|endoftext |> <|end",
            "x" + "a".repeat(2000) + " " + "ab".repeat(700) + " " + "9".repeat(500),
            "   leading spaces and trailing   ",
            "\n",
            " ",
            "ſ 'ſ Straße ǅ ﬁ ΣΑΣ ς Ωmega ΐ İstanbul"
    );

    /** All hard cases joined, as one document. */
    static String hardText() {
        return String.join("\n", HARD);
    }

    /** Random strings over an alphabet that mixes every character class the split patterns distinguish. */
    static List<String> random(int count, int maxLen, long seed) {
        String alphabet = "aZé日ß 1٣½'sStTmMdDrReEvVlL\r\n\t\u000b\u00a0\u3000\u2028.,!?-_\"()<|>\u0301\u200b\u0085";
        int[] extra = {0x1F44D, 0x1F3FD, 0x1D400, 0x10400, 0x1F1EB};
        Random r = new Random(seed);
        String[] out = new String[count];
        for (int i = 0; i < count; i++) {
            StringBuilder b = new StringBuilder();
            int len = r.nextInt(maxLen + 1);
            for (int k = 0; k < len; k++) {
                if (r.nextInt(12) == 0) {
                    b.appendCodePoint(extra[r.nextInt(extra.length)]);
                } else {
                    char c = alphabet.charAt(r.nextInt(alphabet.length()));
                    int run = r.nextInt(6) == 0 ? 1 + r.nextInt(5) : 1;
                    for (int j = 0; j < run; j++) {
                        b.append(c);
                    }
                }
            }
            out[i] = b.toString();
        }
        return Arrays.asList(out);
    }

    /**
     * HuggingFace's encoder through DJL, configured not to truncate, pad or add special tokens (docs/design.md DJL
     * trap 9).
     */
    static HuggingFaceTokenizer huggingFace(Path tokenizerJson) throws IOException {
        return HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optTruncation(false).optPadding(false)
                .optAddSpecialTokens(false).build();
    }

    static int[] ids(ai.djl.huggingface.tokenizers.Encoding e) {
        return Arrays.stream(e.getIds()).mapToInt(Math::toIntExact).toArray();
    }

    /** The shared corpora folder, or a skipped test that says why. */
    static Path sharedData() {
        String p = System.getProperty("stepslm.sharedData", "../../shared/data");
        Path dir = Paths.get(p);
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("austen")),
                "skipped: the shared corpora are not at " + dir.toAbsolutePath() + " (set -Dstepslm.sharedData=...)");
        return dir;
    }

    static final List<String> AUSTEN = List.of("emma.txt", "mansfieldpark.txt", "northangerabbey.txt", "persuasion.txt",
            "prideprejudice.txt", "sensesensibility.txt");

    static Path gpt2StyleFixture() throws Exception {
        return Paths.get(Fixtures.class.getResource("gpt2-style-tokenizer.json").toURI());
    }
}
