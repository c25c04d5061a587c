package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.WindowSource;
import io.stepslm.model.LanguageModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The step that callers outside the loop (bench model) run is the trainer's step, to the bit. */
class TrainStepTest {

    @TempDir
    Path dir;

    private static List<float[]> weights(LanguageModel m) {
        List<float[]> all = new ArrayList<>();
        for (NDArray p : m.parameters().values()) {
            all.add(p.toFloatArray());
        }
        return all;
    }

    @Test
    void stepsRunAloneGiveTheTrainersWeightsAndLosses() throws IOException {
        TrainConfig c = TrainerTest.config("{\"maxSteps\": 6, \"logInterval\": 1, \"evalInterval\": 100, "
                + "\"checkpointInterval\": 100, \"accumulation\": 2}");
        List<float[]> viaTrainer;
        try (LanguageModel m = TrainerTest.tinyModel()) {
            TrainerTest.train(m, c, dir.resolve("run"), new PrintStream(OutputStream.nullOutputStream()), null);
            viaTrainer = weights(m);
        }
        List<Double> trainerLosses = TrainerTest.field(dir.resolve("run"), "train", "loss");

        LrSchedule schedule = LrSchedule.of(c);
        List<Double> losses = new ArrayList<>();
        try (LanguageModel m = TrainerTest.tinyModel(); TrainStep step = new TrainStep(m, c);
             WindowSource train = TokenWindows.random(TrainerTest.TRAIN, c.context(), LoaderState.initial(c.seed()))) {
            for (long s = 0; s < c.maxSteps(); s++) {
                TrainStep.Outcome o = step.run(train, s, schedule.at(s));
                assertTrue(o.applied());
                assertTrue(o.gradNorm() > 0, "gradient norm " + o.gradNorm());
                assertTrue(o.forwardBackwardSeconds() > 0 && o.forwardBackwardSeconds() <= o.seconds());
                losses.add(o.loss());
            }
            List<float[]> alone = weights(m);
            assertEquals(viaTrainer.size(), alone.size());
            for (int i = 0; i < alone.size(); i++) {
                assertArrayEquals(viaTrainer.get(i), alone.get(i), 0f, "parameter " + i);
            }
        }
        assertEquals(trainerLosses, losses);
    }
}
