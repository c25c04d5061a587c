package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.model.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The multi-device path, exercised on CPU with CPU replicas standing in for GPUs 1..n-1. */
class DataParallelTest {

    private static final int T = 8;

    private static LanguageModel model() {
        return LanguageModel.create(ModelConfig.gpt(40, 16, 2, 4, 32, 0, false).withStepsRecipe(),
                ModelRuntime.cpu(new ReferenceKernels()).withSeed(7));
    }

    private static int[][] windows(int b) {
        Random r = new Random(3);
        int[][] w = new int[b][T + 1];
        for (int[] row : w) {
            for (int i = 0; i <= T; i++) {
                row[i] = r.nextInt(40);
            }
        }
        return w;
    }

    private static List<float[]> gradientsOf(DataParallel parallel, int[][] batch, float factor, double[] loss) {
        return gradientsOf(parallel, batch, factor, loss, Device.cpu());
    }

    /** The step's gradients with the step's scope on {@code primary}, the primary model's device. */
    private static List<float[]> gradientsOf(DataParallel parallel, int[][] batch, float factor, double[] loss,
                                             Device primary) {
        List<float[]> out = new ArrayList<>();
        try (NDManager sm = NDManager.newBaseManager(primary);
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            loss[0] = parallel.forwardBackward(sm, collector, batch, T, factor);
            for (NDArray g : parallel.gradients(sm)) {
                out.add(g.toFloatArray());
            }
        }
        parallel.zeroGradients();
        return out;
    }

    @Test
    void shardsAreAsEqualAsPossible() {
        assertArrayEquals(new int[] {12}, DataParallel.shardSizes(12, 1));
        assertArrayEquals(new int[] {4, 4, 4}, DataParallel.shardSizes(12, 3));
        assertArrayEquals(new int[] {3, 3, 2, 2}, DataParallel.shardSizes(10, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataParallel.shardSizes(2, 3));
        assertTrue(e.getMessage().contains("--batch-size"), e.getMessage());
    }

    @Test
    void summedShardGradientsEqualTheWholeBatchGradient() {
        int[][] batch = windows(7); // uneven shards: 3 + 2 + 2
        try (LanguageModel single = model(); LanguageModel primary = model();
                DataParallel one = DataParallel.single(single);
                DataParallel three = DataParallel.over(primary, List.of(Device.cpu(), Device.cpu()))) {
            assertEquals(3, three.devices());
            double[] l1 = new double[1];
            double[] l3 = new double[1];
            List<float[]> expected = gradientsOf(one, batch, 0.5f, l1);
            List<float[]> got = gradientsOf(three, batch, 0.5f, l3);
            assertEquals(l1[0], l3[0], 1e-5);
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), 2e-6f, "gradient " + i);
            }
            // gradients were zeroed on every device: a second pass gives the same again, not twice as much
            assertArrayEquals(expected.get(0), gradientsOf(three, batch, 0.5f, l3).get(0), 2e-6f);
        }
    }

    @Test
    void overlappedShardsGiveTheSequentialResultToTheBit() {
        int[][] batch = windows(7); // shards 3 + 2 + 2: the replicas run on their own threads
        float factor = 0.5f;
        try (LanguageModel primary = model();
                DataParallel three = DataParallel.over(primary, List.of(Device.cpu(), Device.cpu()));
                LanguageModel a = model(); LanguageModel b = model(); LanguageModel c = model()) {
            double[] loss = new double[1];
            List<float[]> got = gradientsOf(three, batch, factor, loss);
            // the oracle: the same three shards one after another on this thread, summed in device order
            double wantLoss = 0;
            List<float[]> want = new ArrayList<>();
            try (NDManager sm = NDManager.newBaseManager(Device.cpu());
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                LanguageModel[] models = {a, b, c};
                int[] bounds = {0, 3, 5, 7};
                for (int d = 0; d < 3; d++) {
                    int[][] part = Arrays.copyOfRange(batch, bounds[d], bounds[d + 1]);
                    float share = (float) part.length / batch.length;
                    NDArray[] xy = Trainer.inputsAndTargets(sm, part, T);
                    NDArray l = models[d].loss(xy[0], xy[1], true);
                    collector.backward(l.mul(sm.create(factor * share)));
                    wantLoss += share * l.getFloat();
                }
                List<NDArray> sum = new ArrayList<>(a.gradients(sm).values());
                for (LanguageModel m : List.of(b, c)) {
                    List<NDArray> g = new ArrayList<>(m.gradients(sm).values());
                    for (int i = 0; i < sum.size(); i++) {
                        sum.get(i).addi(g.get(i));
                    }
                }
                sum.forEach(g -> want.add(g.toFloatArray()));
            }
            assertEquals(wantLoss, loss[0], 0.0);
            for (int i = 0; i < want.size(); i++) {
                assertArrayEquals(want.get(i), got.get(i), 0f, "gradient " + i);
            }
        }
    }

    @Test
    void aFailingShardIsReportedAndLeavesTheOthersUsable() {
        try (LanguageModel primary = model(); DataParallel two = DataParallel.over(primary, List.of(Device.cpu()))) {
            int[][] bad = windows(4);
            bad[3][0] = 100_000; // beyond the (padded) embedding table, in the replica's shard: libtorch refuses it
            assertThrows(RuntimeException.class, () -> gradientsOf(two, bad, 1f, new double[1]));
            two.zeroGradients();
            double[] loss = new double[1];
            gradientsOf(two, windows(4), 1f, loss); // the worker thread still runs the next batch
            assertTrue(Double.isFinite(loss[0]) && loss[0] > 0, "loss " + loss[0]);
        }
    }

    /** gpu:0 with a replica on gpu:1 gives the single-GPU gradient (docs/gpu.md: GPU tests); needs two GPUs. */
    @Tag("gpu")
    @Test
    void twoGpusGiveTheSingleGpuGradient() {
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() >= 2,
                "fewer than two CUDA GPUs visible to libtorch: data parallelism over GPUs not run");
        ModelConfig config = ModelConfig.gpt(40, 16, 2, 4, 32, 0, false).withStepsRecipe();
        ModelRuntime gpu0 = new ModelRuntime(Device.gpu(0), new ReferenceKernels(), Precision.FP32, 7);
        int[][] batch = windows(8);
        try (LanguageModel single = LanguageModel.create(config, gpu0);
                LanguageModel primary = LanguageModel.create(config, gpu0);
                DataParallel one = DataParallel.single(single);
                DataParallel two = DataParallel.over(primary, List.of(Device.gpu(1)))) {
            double[] l1 = new double[1];
            double[] l2 = new double[1];
            List<float[]> expected = gradientsOf(one, batch, 0.5f, l1, Device.gpu(0));
            List<float[]> got = gradientsOf(two, batch, 0.5f, l2, Device.gpu(0));
            assertEquals(l1[0], l2[0], 1e-4);
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), 1e-4f, "gradient " + i);
            }
        }
    }

    @Test
    void broadcastCopiesThePrimaryWeightsToEveryReplica() {
        try (LanguageModel primary = model(); DataParallel two = DataParallel.over(primary, List.of(Device.cpu()))) {
            LanguageModel replica = two.replicas().get(0);
            boolean gradMode = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try (NDManager m = NDManager.newBaseManager()) {
                for (NDArray p : primary.parameters().values()) {
                    p.addi(m.create(0.01f)); // stands in for an optimizer step on the primary
                }
            } finally {
                JniUtils.setGradMode(gradMode);
            }
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray tokens = m.create(new int[] {1, 2, 3, 4}, new Shape(1, 4));
                float[] before = replica.logits(tokens, false).toFloatArray();
                float[] want = primary.logits(tokens, false).toFloatArray();
                assertTrue(Math.abs(before[0] - want[0]) > 0 || Math.abs(before[5] - want[5]) > 0,
                        "the step changed nothing");
                two.broadcast();
                assertArrayEquals(want, replica.logits(tokens, false).toFloatArray(), 0f);
            }
        }
    }
}
