package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ThroughputClockTest {

    @Test
    void intervalsResetAndTheSessionFigureSkipsTheWarmupSteps() {
        ThroughputClock clock = new ThroughputClock(100, 2);
        clock.add(1.0, 4.0); // warm-up: slow first steps
        clock.add(1.0, 3.0);
        clock.add(0.5, 2.0);
        ThroughputClock.Interval first = clock.takeInterval();
        assertEquals(new ThroughputClock.Interval(3, 3.0, 300 / 2.5, 1000 * 2.5 / 3), first);
        clock.add(0.25, 1.0);
        assertEquals(new ThroughputClock.Interval(1, 1.0, 400, 250), clock.takeInterval());
        assertEquals(2.75, clock.seconds());
        assertEquals(200 / 0.75, clock.tokensPerSec(), 1e-9); // steps 3 and 4 only
    }

    @Test
    void aSessionShorterThanTheWarmupUsesAllItsSteps() {
        ThroughputClock clock = new ThroughputClock(64, 10);
        assertEquals(0, clock.tokensPerSec());
        clock.add(0.5, 1.0);
        clock.add(1.5, 1.0);
        assertEquals(128 / 2.0, clock.tokensPerSec(), 1e-9);
    }
}
