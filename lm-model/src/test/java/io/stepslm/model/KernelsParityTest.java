package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

/**
 * Every fused op against the reference, forward and gradients of every input, in FP32 with tight tolerances. The
 * upstream gradient is a random tensor (loss = sum(out * g)) so that wrong gradients cannot cancel out.
 */
class KernelsParityTest extends FusedKernelsFixture {

    static final ReferenceKernels REF = new ReferenceKernels();

    KernelsParityTest() {
        super(42);
    }

    /** Forward output and the gradient of each input for loss = sum(op(inputs) * g). */
    static float[][] run(NDManager m, Function<List<NDArray>, NDArray> op, List<NDArray> inputs, long seedG) {
        List<NDArray> xs = inputs.stream().map(a -> {
            NDArray c = a.duplicate();
            c.setRequiresGradient(true);
            return c;
        }).toList();
        float[][] out = new float[xs.size() + 1][];
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = op.apply(xs);
            Engine.getInstance().setRandomSeed((int) seedG);
            NDArray g = m.randomNormal(y.getShape());
            gc.backward(y.mul(g).sum());
            out[0] = y.toFloatArray();
        }
        for (int i = 0; i < xs.size(); i++) {
            out[i + 1] = xs.get(i).getGradient().toFloatArray();
        }
        return out;
    }

    static void assertParity(NDManager m, String what, Function<List<NDArray>, NDArray> ref,
            Function<List<NDArray>, NDArray> fast, List<NDArray> inputs, float tol) {
        float[][] a = run(m, ref, inputs, 7);
        float[][] b = run(m, fast, inputs, 7);
        for (int i = 0; i < a.length; i++) {
            String part = i == 0 ? "forward" : "gradient of input " + (i - 1);
            assertClose(what + " " + part, a[i], b[i], tol);
        }
    }

    static void assertClose(String what, float[] want, float[] got, float tol) {
        assertEquals(want.length, got.length, what + ": length");
        double maxErr = 0;
        double scale = 1e-6;
        for (int i = 0; i < want.length; i++) {
            assertTrue(Float.isFinite(got[i]), what + ": non-finite at " + i);
            maxErr = Math.max(maxErr, Math.abs(want[i] - got[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        assertTrue(maxErr <= tol * scale, what + ": max abs error " + maxErr + " > " + tol + " x max |ref| " + scale);
    }

    NDArray rand(long... shape) {
        return m.randomNormal(new Shape(shape));
    }

    @Test
    void causalAttentionMatchesReference() {
        assertParity(m, "causal attention", x -> REF.attention(x.get(0), x.get(1), x.get(2), true),
                x -> fused.attention(x.get(0), x.get(1), x.get(2), true),
                List.of(rand(2, 3, 9, 8), rand(2, 3, 9, 8), rand(2, 3, 9, 8)), 2e-5f);
    }

    @Test
    void fullAttentionMatchesReferenceForOneQueryAgainstACache() {
        assertParity(m, "one-query attention", x -> REF.attention(x.get(0), x.get(1), x.get(2), false),
                x -> fused.attention(x.get(0), x.get(1), x.get(2), false),
                List.of(rand(2, 2, 1, 16), rand(2, 2, 11, 16), rand(2, 2, 11, 16)), 2e-5f);
    }

    @Test
    void attentionWithPrecisionFp32IsTheSameKernel() {
        assertParity(m, "attention fp32", x -> REF.attention(x.get(0), x.get(1), x.get(2), true, Precision.FP32),
                x -> fused.attention(x.get(0), x.get(1), x.get(2), true, Precision.FP32),
                List.of(rand(1, 2, 5, 4), rand(1, 2, 5, 4), rand(1, 2, 5, 4)), 2e-5f);
    }

    @Test
    void rmsNormMatchesReference() {
        assertParity(m, "rmsNorm", x -> REF.rmsNorm(x.get(0), x.get(1), 1e-5f),
                x -> fused.rmsNorm(x.get(0), x.get(1), 1e-5f), List.of(rand(3, 5, 24), rand(24)), 1e-5f);
    }

    @Test
    void layerNormWithBiasMatchesReference() {
        assertParity(m, "layerNorm", x -> REF.layerNorm(x.get(0), x.get(1), x.get(2), 1e-5f),
                x -> fused.layerNorm(x.get(0), x.get(1), x.get(2), 1e-5f),
                List.of(rand(3, 5, 24), rand(24), rand(24)), 1e-5f);
    }

    @Test
    void layerNormWithoutBiasMatchesReference() {
        assertParity(m, "layerNorm no bias", x -> REF.layerNorm(x.get(0), x.get(1), 1e-5f),
                x -> fused.layerNorm(x.get(0), x.get(1), 1e-5f), List.of(rand(4, 32), rand(32)), 1e-5f);
    }

    @Test
    void geluMatchesReferenceAndIsTheExactErfForm() {
        assertParity(m, "gelu", x -> REF.gelu(x.get(0)), x -> fused.gelu(x.get(0)),
                List.of(rand(4, 33).mul(m.create(3f))), 1e-5f);
        // known answer: GELU(1) = 0.5 * (1 + erf(1/sqrt2)) = 0.8413447 (the tanh form gives 0.8411920)
        assertEquals(0.8413447f, REF.gelu(m.create(new float[] {1f})).getFloat(0), 1e-6f);
        assertEquals(0.8413447f, fused.gelu(m.create(new float[] {1f})).getFloat(0), 1e-6f);
    }

    @Test
    void siluMatchesReference() {
        assertParity(m, "silu", x -> REF.silu(x.get(0)), x -> fused.silu(x.get(0)),
                List.of(rand(4, 33).mul(m.create(3f))), 1e-5f);
    }

    @Test
    void linearMatchesReferenceWithAndWithoutBias() {
        assertParity(m, "linear", x -> REF.linear(x.get(0), x.get(1), Precision.FP32),
                x -> fused.linear(x.get(0), x.get(1), Precision.FP32), List.of(rand(2, 7, 12), rand(20, 12)), 1e-5f);
        assertParity(m, "linear+bias", x -> REF.linear(x.get(0), x.get(1), x.get(2), Precision.FP32),
                x -> fused.linear(x.get(0), x.get(1), x.get(2), Precision.FP32),
                List.of(rand(2, 7, 12), rand(20, 12), rand(20)), 1e-5f);
    }

    @Test
    void castsMatchDjlsOwnCastAndPassTheGradientBackRounded() {
        // The reference cannot cast (DJL's toType cuts the autograd graph), so DJL's toType is the oracle for the
        // values, and the gradient that reaches x is the upstream gradient rounded to FP16, because it travels back
        // through the FP16 tensor. Values: not representable in FP16, the FP16 maximum, a subnormal, a negative.
        NDArray x = m.create(new float[] {0.1f, 1000.3f, -3.3333f, 65504f, 6.1e-6f, 1f / 3});
        float[][] r = run(m, in -> fused.cast(fused.cast(in.get(0), DataType.FLOAT16), DataType.FLOAT32), List.of(x),
                11);
        float[][] id = run(m, in -> in.get(0).mul(in.get(0).onesLike()), List.of(x), 11); // id[1] is the upstream g
        assertArrayEquals(x.toType(DataType.FLOAT16, true).toType(DataType.FLOAT32, true).toFloatArray(), r[0], 0f);
        assertArrayEquals(m.create(id[1]).toType(DataType.FLOAT16, true).toType(DataType.FLOAT32,
                true).toFloatArray(), r[1], 0f);
        // an identity cast would pass both tests above only if nothing were rounded: make sure something was
        assertTrue(r[0][0] != 0.1f && !java.util.Arrays.equals(id[1], r[1]), "values and gradient are rounded to FP16");
    }

    @Test
    void referenceRefusesLowPrecisionWithAMessageThatNamesTheFix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> REF.linear(rand(2, 3), rand(4, 3), Precision.BF16));
        assertTrue(e.getMessage().contains("fused"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> REF.cast(rand(2), DataType.FLOAT16));
        assertThrows(IllegalArgumentException.class, () -> REF.attention(rand(1, 1, 2, 4), rand(1, 1, 3, 4),
                rand(1, 1, 3, 4), true));
    }

    @Test
    void referenceMaskIsFiniteAndZeroOnThePast() {
        float[] mask = ReferenceKernels.causalMask(m, 3).toFloatArray();
        float n = ReferenceKernels.MASK_VALUE;
        assertArrayEquals(new float[] {0, n, n, 0, 0, n, 0, 0, 0}, mask, 0f); // 0 * MASK is -0.0
    }
}
