package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    private static final double EPS = 1e-12;

    @Test
    void cosineAtItsBoundaries() {
        LrSchedule s = new LrSchedule(Schedule.COSINE, 1e-3, 1e-4, 100, 2000);
        assertEquals(1e-3 / 101, s.at(0), EPS);            // first warmup step is not zero
        assertEquals(1e-3 * 100 / 101, s.at(99), EPS);     // last warmup step
        assertEquals(1e-3, s.at(100), EPS);                // peak right after warmup
        assertEquals(1e-4 + 0.5 * 9e-4, s.at(1050), EPS);  // half way: cos(pi/2) = 0
        assertEquals(1e-4, s.at(2000), EPS);               // floor at the end
        assertEquals(1e-4, s.at(5000), EPS);               // and after it
        for (int i = 101; i < 2000; i++) {
            assert s.at(i) <= s.at(i - 1) : "cosine must not increase at step " + i;
        }
    }

    @Test
    void linearAndConstant() {
        LrSchedule linear = new LrSchedule(Schedule.LINEAR, 1.0, 0.0, 0, 10);
        assertEquals(1.0, linear.at(0), EPS);
        assertEquals(0.5, linear.at(5), EPS);
        assertEquals(0.0, linear.at(10), EPS);
        LrSchedule constant = new LrSchedule(Schedule.CONSTANT, 0.5, 0.1, 2, 10);
        assertEquals(0.5 / 3, constant.at(0), EPS);
        assertEquals(0.5, constant.at(2), EPS);
        assertEquals(0.5, constant.at(100), EPS);
    }

    @Test
    void matchesNanoGptGetLr() {
        // nanoGPT train.py get_lr(it) written out for it = 250 of the shakespeare_char CPU recipe
        double ratio = (250.0 - 100) / (2000 - 100);
        double expected = 1e-4 + 0.5 * (1.0 + Math.cos(Math.PI * ratio)) * (1e-3 - 1e-4);
        assertEquals(expected, LrSchedule.of(TrainConfig.shakespeareChar()).at(250), EPS);
    }
}
