package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.google.gson.JsonObject;
import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.datasets.LoaderState;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.Kernels;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelFiles;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.ReferenceKernels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TrainerTest {

    static final ByteTestTokenizer TOKENIZER = new ByteTestTokenizer();
    static final int[] IDS = TOKENIZER.encode(BuiltinCorpus.text().substring(0, 60_000));
    static final int[] TRAIN = Arrays.copyOfRange(IDS, 0, 54_000);
    static final int[] VAL = Arrays.copyOfRange(IDS, 54_000, IDS.length);

    @TempDir
    Path dir;

    /** 2 blocks of width 32 with dropout, so that resuming must also reproduce the dropout masks. */
    static LanguageModel tinyModel() {
        return tinyModel(new ReferenceKernels());
    }

    static LanguageModel tinyModel(Kernels kernels) {
        return LanguageModel.create(ModelConfig.gpt(TOKENIZER.vocabSize(), 16, 2, 2, 32, 0.1, false),
                ModelRuntime.cpu(kernels));
    }

    static TrainConfig config(String json) {
        return TrainConfig.tiny().withOverrides(com.google.gson.JsonParser.parseString(json).getAsJsonObject(), "test");
    }

    static Trainer.Result train(LanguageModel model, TrainConfig c, Path run, PrintStream log,
            Path resume) throws IOException {
        try (Trainer trainer = new Trainer(model, TOKENIZER, c, run, log, 1.0)) {
            LoaderState start = LoaderState.initial(c.seed());
            if (resume != null) {
                trainer.restore(resume);
                start = LoaderState.fromJson(trainer.loaderState());
            }
            return trainer.run(TokenWindows.random(TRAIN, c.context(), start), () -> TokenWindows.sequential(VAL,
                    c.context()));
        }
    }

    static List<Double> field(Path run, String type, String name) throws IOException {
        List<Double> values = new ArrayList<>();
        try (Metrics m = Metrics.open(run)) {
            for (JsonObject r : m.records()) {
                if (r.get("type").getAsString().equals(type)) {
                    values.add(r.get(name).getAsDouble());
                }
            }
        }
        return values;
    }

    static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    /** A log that calls {@code onLine} for every line printed, to act in the middle of a run (like Ctrl-C). */
    static PrintStream watching(Consumer<String> onLine) {
        return new PrintStream(new OutputStream() {
            final ByteArrayOutputStream line = new ByteArrayOutputStream();

            @Override
            public void write(int b) {
                if (b == '\n') {
                    onLine.accept(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        }, true);
    }

    @Test
    void accumulatedMicroBatchesEqualOneBigBatch() throws IOException {
        // one step without clipping: the logged loss and (pre-clip) gradient norm of 2 x 4 sequences accumulated
        // must equal those of one batch of 8 (the same 8 windows: random offsets come from the sample counter)
        String common = "\"maxSteps\": 1, \"warmupSteps\": 0, \"logInterval\": 1, \"gradClip\": 0, "
                + "\"evalInterval\": 100, \"checkpointInterval\": 100";
        // same seed, so identical initial weights; no dropout, so both see the same network
        try (LanguageModel a = noDropout(tinyModel()); LanguageModel b = noDropout(tinyModel())) {
            train(a, config("{" + common + ", \"batchSize\": 8, \"accumulation\": 1}"), dir.resolve("big"), quiet(),
                    null);
            train(b, config("{" + common + ", \"batchSize\": 4, \"accumulation\": 2}"), dir.resolve("acc"), quiet(),
                    null);
        }
        double lossBig = field(dir.resolve("big"), "train", "loss").get(0);
        double lossAcc = field(dir.resolve("acc"), "train", "loss").get(0);
        double normBig = field(dir.resolve("big"), "train", "gradNorm").get(0);
        double normAcc = field(dir.resolve("acc"), "train", "gradNorm").get(0);
        assertEquals(lossBig, lossAcc, 1e-5);
        assertEquals(normBig, normAcc, 1e-5 * normBig);
        assertTrue(normBig > 0.01, "gradient norm " + normBig);
    }

    private static LanguageModel noDropout(LanguageModel m) {
        LanguageModel copy = LanguageModel.create(m.config().withDropout(0), m.runtime());
        m.close();
        return copy;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "fused"})
    void resumeIsBitExactOnCpu(String kernels) throws IOException {
        TrainConfig c = config("{\"maxSteps\": 16, \"logInterval\": 1, \"evalInterval\": 8, \"checkpointInterval\": "
                + "8, \"evalBatches\": 2}");
        try (LanguageModel m = tinyModel(TestKernels.named(kernels))) {
            train(m, c, dir.resolve("straight"), quiet(), null);
        }
        // the same run stopped at step 8 by the Ctrl-C path (requestStop), then resumed from its checkpoint
        Path run = dir.resolve("stopped");
        Trainer[] current = new Trainer[1];
        try (LanguageModel m = tinyModel(TestKernels.named(kernels)); Trainer trainer = new Trainer(m, TOKENIZER, c,
                run, watching(line -> {
            if (line.startsWith("step 6/")) {
                current[0].requestStop(); // arrives mid-run; the loop stops at the next step boundary
            }
        }), 1.0)) {
            current[0] = trainer;
            Trainer.Result r = trainer.run(TokenWindows.random(TRAIN, c.context(), LoaderState.initial(c.seed())),
                    () -> TokenWindows.sequential(VAL, c.context()));
            assertEquals(6, r.steps());
            assertTrue(r.stopReason().startsWith("interrupted"), r.stopReason());
        }
        Path checkpoint = RunFolder.resolveResume(run);
        assertEquals("step-000006", checkpoint.getFileName().toString());
        try (LanguageModel m = ModelFiles.load(checkpoint.resolve(CheckpointFolder.MODEL),
                ModelRuntime.cpu(TestKernels.named(kernels)))) {
            train(m, CheckpointFolder.config(checkpoint), run, quiet(), checkpoint);
        }
        List<Double> straight = field(dir.resolve("straight"), "train", "loss");
        List<Double> resumed = field(run, "train", "loss");
        assertEquals(16, straight.size());
        assertEquals(straight, resumed); // bit-identical, every step before and after the interruption
        assertEquals(field(dir.resolve("straight"), "eval", "valLoss").get(2), field(run, "eval",
                "valLoss").get(field(run, "eval", "valLoss").size() - 1));
    }

    @Test
    void mfuIsReportedAgainstTheGivenPeak() throws IOException {
        TrainConfig c = config("{\"maxSteps\": 3, \"logInterval\": 1, \"evalInterval\": 100, "
                + "\"checkpointInterval\": 100}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LanguageModel m = tinyModel(); Trainer trainer = new Trainer(m, TOKENIZER, c, dir.resolve("mfu"),
                new PrintStream(out, true, StandardCharsets.UTF_8), 1.0)) {
            trainer.reportMfu(1e9); // a 1 GFLOP/s "device"
            trainer.run(TokenWindows.random(TRAIN, c.context(), LoaderState.initial(c.seed())),
                    () -> TokenWindows.sequential(VAL, c.context()));
            assertThrows(IllegalArgumentException.class, () -> trainer.reportMfu(-1));
        }
        List<Double> tokS = field(dir.resolve("mfu"), "train", "tokensPerSec");
        List<Double> mfu = field(dir.resolve("mfu"), "train", "mfu");
        assertEquals(3, mfu.size());
        double flopsPerToken = Diagnostics.flopsPerToken(tinyModel().config(), c.context());
        for (int i = 0; i < 3; i++) {
            assertEquals(flopsPerToken * tokS.get(i) / 1e9, mfu.get(i), 1e-9 * mfu.get(i));
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("| MFU "), out.toString(StandardCharsets.UTF_8));
        // without a peak there is no figure
        try (LanguageModel m = tinyModel()) {
            train(m, c, dir.resolve("none"), quiet(), null);
        }
        try (Metrics none = Metrics.open(dir.resolve("none"))) {
            assertTrue(none.records().stream().noneMatch(r -> r.has("mfu")));
        }
    }

    @Test
    void outOfMemoryNamesTheBatchAndTheFix() throws IOException {
        // a real libtorch allocation failure: one block 16 wide, but an embedding 8192 wide for 65536 x 64 tokens
        // is a 128 GiB activation, which the allocator refuses at once (more than the machine's memory). Under
        // vm.overcommit_memory=1 the kernel would grant it and kill the JVM while it is filled: skip there.
        Path overcommit = Path.of("/proc/sys/vm/overcommit_memory");
        assumeFalse(Files.isReadable(overcommit) && Files.readString(overcommit).trim().equals("1"),
                "vm.overcommit_memory=1 grants any allocation");
        ModelConfig wide = ModelConfig.gpt(TOKENIZER.vocabSize(), 64, 1, 512, 8192, 0, false)
                .withSteps(List.of(new ModelConfig.Step(16, 1), new ModelConfig.Step(8192, 0)));
        TrainConfig c = config("{\"maxSteps\": 1, \"batchSize\": 65536, \"context\": 64, \"evalInterval\": 100, "
                + "\"evalBatches\": 1, \"checkpointInterval\": 100}");
        try (LanguageModel m = LanguageModel.create(wide, ModelRuntime.cpu(new ReferenceKernels()))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> train(m, c, dir.resolve("oom"), quiet(), null));
            assertTrue(e.getMessage().contains("out of memory with batch size 65536"), e.getMessage());
            assertTrue(e.getMessage().contains("lower --batch-size and raise accumulation"), e.getMessage());
        }
    }

    @Test
    void nonFiniteLossesStopWithAMessageAndKeepTheLastGoodCheckpoint() throws IOException {
        // a learning rate of 1e30 turns the weights into inf/NaN after the first steps
        TrainConfig c = config("{\"maxSteps\": 40, \"learningRate\": 1e30, \"minLearningRate\": 1e29, \"gradClip\": 0, "
                + "\"checkpointInterval\": 1, \"evalInterval\": 100, \"maxBadSteps\": 3, \"warmupSteps\": 0}");
        Path run = dir.resolve("nan");
        try (LanguageModel m = tinyModel()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> train(m, c, run, quiet(), null));
            assertTrue(e.getMessage().contains("3 training steps in a row"), e.getMessage());
        }
        // The newest checkpoint is a good one: it loads, every weight is finite, and it scores text finitely.
        Path last = RunFolder.resolveResume(run);
        assertTrue(Files.isRegularFile(last.resolve(TrainState.FILE)));
        try (LanguageModel loaded = ModelFiles.load(last.resolve(CheckpointFolder.MODEL),
                ModelRuntime.cpu(new ReferenceKernels()));
             ai.djl.ndarray.NDManager nd = ai.djl.ndarray.NDManager.newBaseManager()) {
            for (var p : loaded.parameters().entrySet()) {
                for (float v : p.getValue().toFloatArray()) {
                    assertTrue(Float.isFinite(v), last + ": " + p.getKey() + " holds " + v);
                }
            }
            int[] window = Arrays.copyOfRange(VAL, 0, 17);
            ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(1, 16);
            float loss = loaded.loss(nd.create(Arrays.copyOfRange(window, 0, 16), shape),
                    nd.create(Arrays.copyOfRange(window, 1, 17), shape), false).getFloat();
            assertTrue(Float.isFinite(loss), last + " scores a window with loss " + loss);
        }
    }

    @Test
    void aTruncatedOptimizerStateIsNamedWithTheWayOut() throws IOException {
        TrainConfig c = config("{\"maxSteps\": 4, \"evalInterval\": 100, \"checkpointInterval\": 4}");
        Path run = dir.resolve("cut");
        try (LanguageModel m = tinyModel()) {
            train(m, c, run, quiet(), null);
        }
        Path checkpoint = RunFolder.resolveResume(run);
        Path tensors = checkpoint.resolve(CheckpointFolder.OPTIMIZER_TENSORS);
        byte[] all = Files.readAllBytes(tensors);
        for (int keep : new int[] {all.length / 2, 3}) {
            Files.write(tensors, Arrays.copyOf(all, keep));
            try (LanguageModel m = tinyModel()) {
                TrainConfig longer = c.withOverrides(
                        com.google.gson.JsonParser.parseString("{\"maxSteps\": 8}").getAsJsonObject(), "test");
                IOException e = assertThrows(IOException.class, () -> train(m, longer, run, quiet(), checkpoint));
                assertTrue(e.getMessage().startsWith(tensors + " is truncated or corrupt (" + keep + " bytes)"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("--resume " + checkpoint.resolveSibling("step-N")), e.getMessage());
            }
        }
    }

    @Test
    void fp16OverflowSkipsStepsAndHalvesTheLossScale() throws IOException {
        // a loss scale of 2^30 overflows FP16 gradients: steps are skipped and the scale halved until they fit
        TrainConfig c = config("{\"maxSteps\": 24, \"logInterval\": 1, \"precision\": \"fp16\", "
                + "\"initialLossScale\": 1073741824, "
                + "\"maxBadSteps\": 20, \"evalInterval\": 100, \"checkpointInterval\": 100}");
        Path run = dir.resolve("fp16");
        ModelRuntime runtime = new ModelRuntime(ai.djl.Device.cpu(), TestKernels.named("fused"),
                io.stepslm.model.Precision.FP16, c.seed());
        try (LanguageModel m = LanguageModel.create(ModelConfig.gpt(TOKENIZER.vocabSize(), 16, 2, 2, 32, 0.0, false),
                runtime)) {
            Trainer.Result r = train(m, c, run, quiet(), null);
            assertTrue(Double.isFinite(r.lastTrainLoss()), "loss " + r.lastTrainLoss());
        }
        List<Double> scales = field(run, "train", "lossScale");
        assertTrue(scales.get(0) < 1073741824, "the first step must overflow and halve the scale: " + scales);
        assertTrue(scales.get(scales.size() - 1) >= 1, scales.toString());
        assertEquals(scales.get(scales.size() - 1), scales.get(scales.size() - 2),
                "the scale settles once gradients fit: " + scales);
    }

    @Test
    void liveNativeArraysStayFlatOverManySteps() throws IOException {
        // every array a step creates lives in the step's sub-manager; count all live arrays under the engine's
        // system manager (model, optimizer state, trainer) after each step
        TrainConfig c = config("{\"maxSteps\": 30, \"logInterval\": 1, \"evalInterval\": 10, "
                + "\"checkpointInterval\": 100}");
        ai.djl.ndarray.NDManager system;
        try (ai.djl.ndarray.NDManager probe = ai.djl.ndarray.NDManager.newBaseManager()) {
            system = probe.getParentManager();
        }
        List<Integer> counts = new ArrayList<>();
        try (LanguageModel m = tinyModel()) {
            ai.djl.ndarray.NDManager root = system;
            PrintStream log = watching(line -> {
                if (line.startsWith("step ") && line.contains("/30 |")) {
                    counts.add(root.getManagedArrays().size());
                }
            });
            try (Trainer trainer = new Trainer(m, TOKENIZER, c, dir.resolve("flat"), log, 1.0)) {
                trainer.run(TokenWindows.random(TRAIN, c.context(), LoaderState.initial(c.seed())),
                        () -> TokenWindows.sequential(VAL, c.context()));
            }
        }
        assertEquals(30, counts.size());
        assertTrue(counts.get(4) >= 3 * tinyParameterCount(),
                "the count must include the parameters and both AdamW moments: " + counts);
        assertEquals(counts.get(4), counts.get(29), "live arrays per step: " + counts);
    }

    private static int tinyParameterCount() {
        try (LanguageModel m = tinyModel()) {
            return m.parameters().size();
        }
    }

    @Test
    void dataParallelOverTwoCpuReplicasFollowsTheSingleDeviceRun() throws IOException {
        // the multi-device path of the loop with a CPU replica standing in for a second GPU: batch split 2 + 2,
        // gradients summed, weights broadcast after each step; the losses follow the single-device run
        TrainConfig c = config("{\"maxSteps\": 6, \"logInterval\": 1, \"evalInterval\": 100, "
                + "\"checkpointInterval\": 100}");
        try (LanguageModel a = noDropout(tinyModel())) {
            train(a, c, dir.resolve("one"), quiet(), null);
        }
        try (LanguageModel b = noDropout(tinyModel());
             Trainer trainer = new Trainer(b, TOKENIZER, c, dir.resolve("two"), quiet(), 1.0)) {
            trainer.replicateOn(List.of(ai.djl.Device.cpu()));
            trainer.run(TokenWindows.random(TRAIN, c.context(), LoaderState.initial(c.seed())), () ->
                    TokenWindows.sequential(VAL, c.context()));
        }
        List<Double> one = field(dir.resolve("one"), "train", "loss");
        List<Double> two = field(dir.resolve("two"), "train", "loss");
        assertEquals(6, two.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(one.get(i), two.get(i), 1e-4, "step " + (i + 1) + ": " + one + " vs " + two);
        }
    }

    @Test
    void earlyStopEndsTheRunAfterEvaluationsWithoutImprovementAndSavesIt() throws IOException {
        // a learning rate far too high makes validation loss stop improving; patience 2 ends the run early
        TrainConfig c = config("{\"maxSteps\": 200, \"learningRate\": 0.5, \"minLearningRate\": 0.5, "
                + "\"warmupSteps\": 0, "
                + "\"evalInterval\": 4, \"checkpointInterval\": 1000, \"earlyStopPatience\": 2, \"logInterval\": 4}");
        Path run = dir.resolve("early");
        Trainer.Result r;
        try (LanguageModel m = tinyModel()) {
            r = train(m, c, run, quiet(), null);
        }
        assertTrue(r.steps() < 200, "stopped at " + r.steps());
        assertTrue(r.stopReason().startsWith("early stop"), r.stopReason());
        List<Double> val = field(run, "eval", "valLoss");
        assertTrue(val.get(val.size() - 1) >= r.bestValLoss() && val.get(val.size() - 2) >= r.bestValLoss(),
                val.toString());
        assertEquals(RunFolder.name(r.steps()), RunFolder.resolveResume(run).getFileName().toString());
    }
}
