package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Global-norm clipping, both kernels, against hand computations. */
class ClipGradNormTest extends FusedKernelsFixture {

    ClipGradNormTest() {
        super(3);
    }

    private static Kernels kernels(String name) {
        return name.equals("fused") ? fused : new ReferenceKernels();
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "fused"})
    void clipsByTheGlobalNormComputedByHand(String name) {
        Kernels k = kernels(name);
        NDArray a = m.create(new float[] {3, 4}, new Shape(2));          // squares: 9 + 16
        NDArray b = m.create(new float[] {12, 0, 0, 0}, new Shape(2, 2)); // square: 144
        double norm = k.clipGradNorm(List.of(a, b), 1.0);
        assertEquals(13.0, norm, 1e-6);                                  // sqrt(169)
        double c = 1.0 / (13.0 + 1e-6);                                  // the 1e-6 of clip_grad_norm_
        assertArrayEquals(new float[] {(float) (3 * c), (float) (4 * c)}, a.toFloatArray(), 1e-7f);
        assertArrayEquals(new float[] {(float) (12 * c), 0, 0, 0}, b.toFloatArray(), 1e-7f);
        assertEquals(1.0, k.clipGradNorm(List.of(a, b), 0), 1e-6);      // the clipped gradients' norm
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "fused"})
    void leavesSmallGradientsAndScalesNothingWhenOffOrNonFinite(String name) {
        Kernels k = kernels(name);
        NDArray a = m.create(new float[] {0.3f, 0.4f});
        assertEquals(0.5, k.clipGradNorm(List.of(a), 1.0), 1e-6);
        assertArrayEquals(new float[] {0.3f, 0.4f}, a.toFloatArray());
        NDArray big = m.create(new float[] {30f, 40f});
        assertEquals(50, k.clipGradNorm(List.of(big), 0), 1e-5);        // 0 = clipping off: norm only
        assertArrayEquals(new float[] {30f, 40f}, big.toFloatArray());
        NDArray bad = m.create(new float[] {1, Float.NaN});
        assertTrue(Double.isNaN(k.clipGradNorm(List.of(a, bad), 1.0)));
        assertArrayEquals(new float[] {0.3f, 0.4f}, a.toFloatArray());   // untouched: the step is skipped
        NDArray inf = m.create(new float[] {Float.POSITIVE_INFINITY, 1});
        assertTrue(Double.isInfinite(k.clipGradNorm(List.of(a, inf), 1.0)));
        assertArrayEquals(new float[] {0.3f, 0.4f}, a.toFloatArray());
    }
}
