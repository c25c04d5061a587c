package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.stepslm.model.LanguageModel;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PerplexityTest {

    @Test
    void disjointWindowsEqualTheModelLossAndBatchingDoesNotMatter() {
        int[] ids = Arrays.copyOf(TrainerTest.VAL, 16 * 6 + 1); // exactly 6 windows of 16
        try (LanguageModel model = TrainerTest.tinyModel(); NDManager m = NDManager.newBaseManager()) {
            Perplexity.Score one = Perplexity.score(model, "x", ids, 1000, 16, 16, 1);
            Perplexity.Score four = Perplexity.score(model, "x", ids, 1000, 16, 16, 4);
            assertEquals(96, one.tokens());
            assertEquals(one.nll(), four.nll(), 1e-3);
            int[][] windows = new int[6][];
            for (int i = 0; i < 6; i++) {
                windows[i] = Arrays.copyOfRange(ids, 16 * i, 16 * i + 17);
            }
            var xy = Trainer.inputsAndTargets(m, windows, 16);
            float expected = model.loss(xy[0], xy[1], false).getFloat();
            assertEquals(expected, one.loss(), 1e-5);
            assertEquals(one.nll() / Math.log(2) / 1000, one.bitsPerByte(), 1e-12);
            assertTrue(Math.abs(one.loss() - Math.log(257)) < 0.5, "untrained loss " + one.loss() + " near ln(257)");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Perplexity.score(model, "x", ids, 1, 64, 64, 1));
            assertTrue(e.getMessage().contains("context length"), e.getMessage());
        }
    }
}
