package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LossScalerTest {

    @Test
    void infHalvesAndSkipsThenCleanStepsGrow() {
        LossScaler s = LossScaler.dynamic(1024, 3, 10);
        assertFalse(s.update(false));   // injected inf: skip
        assertEquals(512, s.scale());
        assertFalse(s.update(false));
        assertEquals(256, s.scale());
        assertTrue(s.update(true));
        assertTrue(s.update(true));
        assertEquals(256, s.scale());   // only 2 clean steps
        assertTrue(s.update(true));
        assertEquals(512, s.scale());   // the 3rd clean step doubles
        assertFalse(s.update(false));   // an inf resets the clean counter
        assertEquals(256, s.scale());
        assertTrue(s.update(true));
        assertTrue(s.update(true));
        assertEquals(256, s.scale());
        assertEquals(3, s.skippedSteps());
    }

    @Test
    void kBadStepsInARowStop() {
        LossScaler s = LossScaler.fixed(3);
        assertFalse(s.update(false));
        assertFalse(s.update(false));
        assertTrue(s.update(true));     // a good step resets the count
        assertFalse(s.update(false));
        assertFalse(s.update(false));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.update(false));
        assertTrue(e.getMessage().contains("3 training steps in a row"), e.getMessage());
        assertEquals(1.0, s.scale());   // no scaling without fp16
    }

    @Test
    void stateRoundTrips() {
        LossScaler a = LossScaler.dynamic(65536, 5, 4);
        a.update(false);
        a.update(true);
        LossScaler b = LossScaler.dynamic(65536, 5, 4);
        b.restore(a.state());
        for (boolean finite : new boolean[] {true, true, true, true, false, true}) {
            assertEquals(a.update(finite), b.update(finite));
            assertEquals(a.scale(), b.scale());
        }
    }
}
