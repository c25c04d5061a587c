package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Oracle test: the hand-written scanners split exactly like the regexes they replace. */
class SplitPatternTest {

    /** java.util.regex with Unicode classes: \s = White_Space, like Oniguruma in HuggingFace. */
    private static List<String> regexSplit(SplitPattern p, String s) {
        Matcher m = Pattern.compile(p.regex(), Pattern.UNICODE_CHARACTER_CLASS).matcher(s);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(SplitPattern.class)
    void scannerEqualsRegexOnHardCases(SplitPattern p) {
        for (String s : Fixtures.HARD) {
            assertEquals(regexSplit(p, s), p.split(s), () -> "text: " + s);
        }
    }

    @ParameterizedTest
    @EnumSource(SplitPattern.class)
    void scannerEqualsRegexOnRandomStrings(SplitPattern p) {
        for (String s : Fixtures.random(20_000, 40, 7)) {
            assertEquals(regexSplit(p, s), p.split(s),
                    () -> "text: " + s.codePoints().mapToObj(Integer::toHexString).toList());
        }
    }

    @Test
    void knownSplits() {
        assertEquals(List.of("Hello", ",", " world", "'s", " 123", "  ", " x", "\n\n"),
                SplitPattern.GPT2.split("Hello, world's 123   x\n\n"));
        assertEquals(List.of("Hello", ",", " world", "'S", " ", "123", "4", "  ", " x", "!\n\n"),
                SplitPattern.CL100K.split("Hello, world'S 1234   x!\n\n"));
    }
}
