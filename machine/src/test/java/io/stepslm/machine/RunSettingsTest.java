package io.stepslm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;

import org.junit.jupiter.api.Test;

/** Thread count and device. */
class RunSettingsTest {

    @Test
    void threadCountReachesLibtorchAndIsRestored() {
        int before = CpuThreads.current();
        try {
            assertEquals(1, new CpuThreads(1).apply());
            assertEquals("1", System.getProperty(CpuThreads.PROPERTY));
            assertEquals(2, new CpuThreads(2).apply());
        } finally {
            new CpuThreads(before).apply();
        }
        assertThrows(IllegalArgumentException.class, () -> new CpuThreads(-1));
    }

    @Test
    void deviceSettingParsesAndRefusesAMissingGpu() {
        assertEquals(Device.cpu(), DeviceSetting.cpu().resolve());
        assertTrue(new DeviceSetting("GPU:1").isGpu());
        assertFalse(new DeviceSetting(" cpu").isGpu());
        assertThrows(IllegalArgumentException.class, () -> new DeviceSetting("tpu"));
        if (Engine.getEngine("PyTorch").getGpuCount() == 0) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DeviceSetting("gpu").resolve());
            assertTrue(e.getMessage().contains("use device cpu"), e.getMessage());
        }
    }
}
