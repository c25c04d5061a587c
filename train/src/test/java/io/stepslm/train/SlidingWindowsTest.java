package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stepslm.train.SlidingWindows.Window;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlidingWindowsTest {

    @Test
    void strideEqualToContextIsDisjointWindows() {
        // 9 tokens -> 8 targets; context 4: inputs [0,4) score targets 1..4, inputs [4,8) score 5..8
        assertEquals(List.of(new Window(0, 4, 0), new Window(4, 4, 0)), SlidingWindows.plan(9, 4, 4));
    }

    @Test
    void smallerStrideScoresEachTargetOnceWithMoreContext() {
        // 10 tokens, context 4, stride 2: windows at 0, 2, 4, 6; after the first only the 2 newest targets count
        List<Window> w = SlidingWindows.plan(10, 4, 2);
        assertEquals(List.of(new Window(0, 4, 0), new Window(2, 4, 2), new Window(4, 4, 2), new Window(6, 3, 2)), w);
        boolean[] seen = new boolean[10];
        for (Window x : w) {
            for (int r = x.scoreFrom(); r < x.length(); r++) {
                int target = x.begin() + r + 1;
                assertEquals(false, seen[target], "target " + target + " scored twice");
                seen[target] = true;
                if (x.begin() > 0) {
                    assertEquals(true, r >= 4 - 2,
                            "target " + target + " has less than context - stride of left context");
                }
            }
        }
        for (int t = 1; t < 10; t++) {
            assertEquals(true, seen[t], "target " + t + " not scored");
        }
    }

    @Test
    void shortTextsAndBadArguments() {
        assertEquals(List.of(new Window(0, 2, 0)), SlidingWindows.plan(3, 8, 4));
        assertEquals(List.of(), SlidingWindows.plan(1, 8, 4));
        assertThrows(IllegalArgumentException.class, () -> SlidingWindows.plan(10, 4, 5));
    }
}
