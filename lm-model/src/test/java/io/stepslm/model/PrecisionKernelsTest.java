package io.stepslm.model;

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

/**
 * FP16/BF16 through the fused kernels: results close to FP32, gradients reaching the FP32 master weights, casts
 * that round and pass gradients straight through, attention that never makes NaN, and DJL never holding a BF16
 * tensor (every array these tests touch is FP32 or FP16; BF16 exists only inside the archive).
 */
class PrecisionKernelsTest extends FusedKernelsFixture {


    PrecisionKernelsTest() {
        super(3);
    }

    @Test
    void reducedPrecisionLinearIsCloseToFp32AndItsGradientsReachTheMasterWeights() {
        NDArray x = m.randomNormal(new Shape(4, 8, 64));
        NDArray w = m.randomNormal(new Shape(48, 64)).mul(m.create(0.1f));
        NDArray b = m.randomNormal(new Shape(48));
        NDArray g = m.randomNormal(new Shape(4, 8, 48));
        float[][] ref = KernelsParityTest.run(m, in -> fused.linear(in.get(0), in.get(1), in.get(2), Precision.FP32)
                .mul(g), List.of(x, w, b), 1);
        for (Precision p : List.of(Precision.FP16, Precision.BF16)) {
            float[][] low = KernelsParityTest.run(m, in -> {
                NDArray y = fused.linear(in.get(0), in.get(1), in.get(2), p);
                assertEquals(DataType.FLOAT32, y.getDataType(), p + " result is handed back in FP32");
                return y.mul(g);
            }, List.of(x, w, b), 1);
            float tol = p == Precision.BF16 ? 2e-2f : 3e-3f; // 8 vs 11 significant bits, 64-term sums
            String[] parts = {"forward", "dx", "dW (FP32 master)", "db"};
            for (int i = 0; i < parts.length; i++) {
                KernelsParityTest.assertClose(p + " linear " + parts[i], ref[i], low[i], tol);
            }
        }
    }

    @Test
    void reducedPrecisionAttentionIsCloseToFp32() {
        List<NDArray> qkv = List.of(m.randomNormal(new Shape(2, 2, 16, 32)), m.randomNormal(new Shape(2, 2, 16, 32)),
                m.randomNormal(new Shape(2, 2, 16, 32)));
        float[][] ref = KernelsParityTest.run(m, in -> fused.attention(in.get(0), in.get(1), in.get(2), true,
                Precision.FP32), qkv, 5);
        for (Precision p : List.of(Precision.FP16, Precision.BF16)) {
            float[][] low = KernelsParityTest.run(m, in -> fused.attention(in.get(0), in.get(1), in.get(2), true, p),
                    qkv, 5);
            for (int i = 0; i < ref.length; i++) {
                KernelsParityTest.assertClose(p + " attention part " + i, ref[i], low[i],
                        p == Precision.BF16 ? 4e-2f : 5e-3f);
            }
        }
    }

    @Test
    void roundTripsRoundAndPassGradientsStraightThrough() {
        // 1 + 2^-9 is exact in FP16 (10 fraction bits) and rounds to 1 in BF16 (7 fraction bits)
        float v = 1f + 1f / 512;
        NDArray x = m.create(new float[] {v, 3.140625f, -2.5f});
        for (Precision p : List.of(Precision.FP16, Precision.BF16)) {
            float[][] r = KernelsParityTest.run(m, in -> fused.roundTrip(in.get(0), p), List.of(x), 9);
            assertEquals(p == Precision.FP16 ? v : 1f, r[0][0], 0f, p + " rounding of 1 + 2^-9");
            assertEquals(-2.5f, r[0][2], 0f);
            // gradient of sum(round(x) * g) is g: compare with the identity op under the same g
            float[][] id = KernelsParityTest.run(m, in -> in.get(0).mul(in.get(0).onesLike()), List.of(x), 9);
            // the upstream gradient itself travels through the low-precision tensor, so it is rounded too
            KernelsParityTest.assertClose(p + " gradient passes straight through", id[1], r[1],
                    p == Precision.BF16 ? 1f / 128 : 1f / 1024);
        }
    }

    @Test
    void castToFp16AndBackIsDifferentiable() {
        NDArray x = m.create(new float[] {0.1f, 1000.5f, -3f});
        float[][] r = KernelsParityTest.run(m, in -> {
            NDArray h = fused.cast(in.get(0), DataType.FLOAT16);
            assertEquals(DataType.FLOAT16, h.getDataType());
            return fused.cast(h, DataType.FLOAT32);
        }, List.of(x), 2);
        assertEquals(0.099975586f, r[0][0], 0f, "0.1 rounded to FP16");
        assertEquals(1000.5f, r[0][1], 0f);
        float[][] id = KernelsParityTest.run(m, in -> in.get(0).mul(in.get(0).onesLike()), List.of(x), 2);
        KernelsParityTest.assertClose("fp16 cast gradient", id[1], r[1], 1f / 1024);
    }

    @Test
    void castToBf16IsRefusedBecauseDjlCannotHoldIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fused.cast(m.ones(new Shape(2)), DataType.BFLOAT16));
        assertTrue(e.getMessage().contains("Precision.BF16"), e.getMessage());
    }

    @Test
    void causalAttentionNeverMakesNanInFp16EvenWithHugeScores() {
        // scores of about +-1e4 overflow FP16 arithmetic with an -inf mask; the first query sees only itself
        NDArray q = m.randomNormal(new Shape(1, 2, 8, 16)).mul(m.create(30f));
        NDArray k = m.randomNormal(new Shape(1, 2, 8, 16)).mul(m.create(30f));
        NDArray v = m.randomNormal(new Shape(1, 2, 8, 16));
        for (Precision p : Precision.values()) {
            float[][] r = KernelsParityTest.run(m, in -> fused.attention(in.get(0), in.get(1), in.get(2), true, p),
                    List.of(q, k, v), 4);
            for (float[] part : r) {
                for (float f : part) {
                    assertTrue(Float.isFinite(f), p + " attention produced " + f);
                }
            }
        }
        // FP16 tensors handed to the 4-argument attention (the model's own casts) stay finite as well
        NDArray y = fused.attention(fused.cast(q, DataType.FLOAT16), fused.cast(k, DataType.FLOAT16),
                fused.cast(v, DataType.FLOAT16), true);
        for (float f : fused.cast(y, DataType.FLOAT32).toFloatArray()) {
            assertTrue(Float.isFinite(f), "fp16 attention produced " + f);
        }
        // the reference's finite mask: exact zeros for the future, no NaN even with scores of 1e6
        float[] ref = new ReferenceKernels().attention(q.mul(m.create(100f)), k, v, true).toFloatArray();
        for (float f : ref) {
            assertTrue(Float.isFinite(f), "reference attention produced " + f);
        }
    }

    @Test
    void fusedIsTheDefaultChoiceAndReferenceRefusesReducedPrecision() {
        KernelChoice.Opened k = KernelChoice.FUSED.open(m, Precision.BF16);
        assertEquals("fused", k.kernels().name());
        assertTrue(k.fallback().isEmpty(), "no fallback reason when the archive loads");
        assertEquals("reference", KernelChoice.REFERENCE.open(m, Precision.FP32).kernels().name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelChoice.REFERENCE.open(m, Precision.FP16));
        assertTrue(e.getMessage().contains("fp32"), e.getMessage());
        assertEquals(KernelChoice.REFERENCE, KernelChoice.parse(" Reference "));
        assertThrows(IllegalArgumentException.class, () -> KernelChoice.parse("cuda"));
        assertEquals(Precision.BF16, Precision.parse("bf16"));
        assertThrows(IllegalArgumentException.class, () -> Precision.parse("int8"));
    }

    @Test
    void modelTrainsAGradientStepInBf16() {
        ModelConfig c = ModelConfig.gpt(65, 16, 2, 4, 32, 0.0, false);
        ModelRuntime rt = ModelRuntime.cpu(fused).withPrecision(Precision.BF16);
        try (LanguageModel model = LanguageModel.create(c, rt)) {
            NDArray x = m.create(LanguageModelBehaviourTest.randomTokens(32, 65, 1), new Shape(2, 16));
            NDArray y = m.create(LanguageModelBehaviourTest.randomTokens(32, 65, 2), new Shape(2, 16));
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = model.loss(x, y, true);
                loss = l.getFloat();
                gc.backward(l);
            }
            assertEquals(Math.log(65), loss, 0.1, "bf16 loss at init");
            NDArray g = model.gradients(m).get("steps.0.blocks.0.attn.qkv.weight");
            assertEquals(DataType.FLOAT32, g.getDataType(), "master-weight gradient stays FP32");
            float norm = g.abs().sum().getFloat();
            assertTrue(norm > 0 && Float.isFinite(norm), "gradient " + norm);
        }
    }
}
