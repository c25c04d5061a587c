package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradClipTest {

    @Test
    void clipsByTheGlobalNormComputedByHand() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.create(new float[] {3, 4}, new Shape(2));          // squares: 9 + 16
            NDArray b = manager.create(new float[] {12, 0, 0, 0}, new Shape(2, 2)); // square: 144
            double norm = GradClip.clip(List.of(a, b), 1.0);
            assertEquals(13.0, norm, 1e-6);                                        // sqrt(169)
            double c = 1.0 / (13.0 + 1e-6);
            assertArrayEquals(new float[] {(float) (3 * c), (float) (4 * c)}, a.toFloatArray(), 1e-7f);
            assertArrayEquals(new float[] {(float) (12 * c), 0, 0, 0}, b.toFloatArray(), 1e-7f);
            assertEquals(1.0, GradClip.globalNorm(List.of(a, b)), 1e-6);
        }
    }

    @Test
    void leavesSmallGradientsAndReportsNonFinite() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.create(new float[] {0.3f, 0.4f});
            assertEquals(0.5, GradClip.clip(List.of(a), 1.0), 1e-6);
            assertArrayEquals(new float[] {0.3f, 0.4f}, a.toFloatArray());
            assertEquals(1.0, GradClip.coefficient(100, 0));                      // 0 = clipping off
            NDArray bad = manager.create(new float[] {1, Float.NaN});
            assertTrue(Double.isNaN(GradClip.clip(List.of(a, bad), 1.0)));
            assertArrayEquals(new float[] {0.3f, 0.4f}, a.toFloatArray());        // untouched: the step is skipped
        }
    }
}
