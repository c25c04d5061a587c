package io.stepslm.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.model.ModelConfig;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Presets are parameter-matched, pairs parse and refuse bad input, and the equal-time step count. */
class ExperimentConfigTest {

    @Test
    void everyPresetPairIsParameterMatchedWithTheRecipe() {
        for (ExperimentConfig c : List.of(ExperimentConfig.cpu(), ExperimentConfig.paper30m(),
                ExperimentConfig.tiny())) {
            for (Pair p : c.pairs()) {
                p.checkMatched(c.vocabSize(), c.train().context());
                ModelConfig plain = p.plain(c.vocabSize(), c.train().context());
                ModelConfig steps = p.steps(c.vocabSize(), c.train().context());
                assertTrue(plain.isPlain() && steps.steps().size() == 3, p.toString());
                assertEquals(2 * plain.blocks(), steps.blocks(), "the recipe doubles the blocks: " + p);
            }
        }
        // the paper's 30M pair: 6 blocks at 384 against 192 x 6, 256 x 3, 384 x 3 (head size 64)
        ModelConfig s = ExperimentConfig.paper30m().pairs().get(0).steps(50257, 512);
        assertEquals(List.of(new ModelConfig.Step(192, 6), new ModelConfig.Step(256, 3), new ModelConfig.Step(384, 3)),
                s.steps());
    }

    @Test
    void aPairOutsideTwoPercentIsRefusedWithTheFix() {
        // 16 blocks at width 128 with a small vocabulary: the rounded middle step (96 for 90.5) adds 3.1 % of the
        // block parameters, which the embedding no longer dilutes below 2 %
        Pair deep = new Pair("deep", 128, 4, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> deep.checkMatched(1024, 64));
        assertTrue(e.getMessage().contains("pair deep") && e.getMessage().contains("more than 2 %"), e.getMessage());
        assertTrue(Math.abs(deep.mismatch(1024, 64) - 0.029) < 0.003, "mismatch " + deep.mismatch(1024, 64));
    }

    @Test
    void pairsParseAndRefuseBadInput() {
        assertEquals(new Pair("small", 128, 4, 4), Pair.parse("small:128:4:4"));
        assertEquals(new Pair("d", 64, 4, 16), Pair.parse("D:64:16:4"));
        assertMessage(() -> Pair.parse("small:128:4"), "NAME:WIDTH:DEPTH:HEADS");
        assertMessage(() -> Pair.parse("small:128:x:4"), "whole numbers");
        assertMessage(() -> Pair.parse("small:64:4:2"), "pair small: width 64 with head size 32 is too narrow");
        assertMessage(() -> Pair.parse("a b:64:4:4"), "lower-case");
        assertMessage(() -> ExperimentConfig.cpu().withSeeds(List.of(1L, 1L)), "different seeds");
        assertMessage(() -> ExperimentConfig.cpu().withPairs(List.of(Pair.parse("a:64:4:4"), Pair.parse("a:128:4:4"))),
                "repeat");
        assertMessage(() -> ExperimentConfig.preset("huge"), "cpu, paper-30m or tiny");
    }

    @Test
    void equalTimeStepsScaleThePlainStepsByTheTimePerStep() {
        RunResult plain = result(300, 30.0, 0.10);
        RunResult steps = result(300, 45.0, 0.125);
        OptionalDouble none = OptionalDouble.empty();
        assertEquals(240, StepsVsPlain.equalTimeSteps(plain, steps, OptionalDouble.of(0.5)),
                "CPU seconds per step when both are known, before any other seed's ratio");
        RunResult resumed = result(300, 45.0, Double.NaN);
        assertEquals(270, StepsVsPlain.equalTimeSteps(plain, resumed, OptionalDouble.of(0.9)),
                "a resumed run (no CPU measure): the pair's CPU-time ratio over the other seeds");
        assertEquals(200, StepsVsPlain.equalTimeSteps(plain, resumed, none), "else wall-clock seconds per step");
        assertEquals(1, StepsVsPlain.equalTimeSteps(plain, result(300, 1e9, Double.NaN), none), "at least one step");
    }

    private static RunResult result(long steps, double trainSeconds, double cpuPerStep) {
        return new RunResult("r", "p", "plain", 0, null, null, 0, 0, 0, 0, steps, 0, trainSeconds, cpuPerStep, 0,
                "", 0, 0, 0, 0, 0, 0, List.of(), null);
    }

    static void assertMessage(Runnable r, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }
}
