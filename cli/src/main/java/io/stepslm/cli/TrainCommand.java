package io.stepslm.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.stepslm.datasets.LoaderState;
import io.stepslm.files.ProcessLock;
import io.stepslm.machine.CpuThreads;
import io.stepslm.machine.DeviceSetting;
import io.stepslm.machine.GpuFacts;
import io.stepslm.machine.Machine;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelFiles;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import io.stepslm.train.CheckpointFolder;
import io.stepslm.train.RunData;
import io.stepslm.train.RunFolder;
import io.stepslm.train.RunLock;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.Trainer;
import io.stepslm.train.TrainingMemory;
import io.stepslm.train.TrainingReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepslm train}: trains a model on text files (or the built-in corpus) with checkpoints and a report. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Train a language model: AdamW, warmup + cosine schedule, global-norm clipping, accumulation,",
                "evaluation, resumable checkpoints (--resume), metrics.jsonl and report.html in --out.",
                "Precedence: --preset defaults, then --config file.json, then flags. Ctrl-C saves a checkpoint."},
        footer = {"", "Examples:",
                "  stepslm train --char --input ../shared/data/tinyshakespeare.txt --model char-tiny --out "
                + "runs/shakespeare",
                "  stepslm train --tokenizer tokenizer.json --input corpus/ --model char-small-steps --accumulation 4 "
                + "--out runs/a",
                "  stepslm train --resume runs/shakespeare --max-steps 4000",
                "  stepslm train --shards data/owt --tokenizer tokenizer.json --model gpt2-small --device gpu "
                + "--precision bf16 --out runs/owt",
                "  stepslm train --config run.json --precision bf16 --device gpu"})
public final class TrainCommand implements Callable<Integer> {

    @Mixin
    TrainDataOptions data; // --input or --shards, --tokenizer or --char, --val-fraction

    @Option(names = "--model", description = "Model preset: " + "char-tiny, char-tiny-steps, char-small, "
            + "char-small-steps, gpt2-small, gpt2-small-steps (default: ${DEFAULT-VALUE}).")
    String modelPreset = "char-tiny";

    @Option(names = "--model-config", paramLabel = "FILE", description = "JSON with model config keys that override "
            + "the preset, e.g. {\"positions\": \"ROTARY\", \"norm\": \"RMS_NORM\", \"mlp\": \"SWIGLU\"} (keys as in a "
            + "checkpoint's config.json; vocabSize follows the tokenizer).")
    Path modelConfigFile;

    @Option(names = "--positions", description = "Override the preset's positions: learned (GPT-2) or rotary (LLaMA).")
    String positions;

    @Option(names = "--norm", description = "Override the preset's norm: layer (LayerNorm) or rms (RMSNorm).")
    String norm;

    @Option(names = "--mlp", description = "Override the preset's MLP: gelu or swiglu.")
    String mlp;

    @Option(names = "--dropout", description = "Override the model preset's dropout.")
    Double dropout;

    @Option(names = "--preset", description = "Training preset: shakespeare-char, demo or tiny (default: "
            + "${DEFAULT-VALUE}).")
    String preset = "shakespeare-char";

    @Option(names = "--config", paramLabel = "FILE", description = "JSON with train config keys (see --print-config); "
            + "unknown keys are errors.")
    Path configFile;

    @Option(names = "--print-config", description = "Print the resolved train config as JSON and exit.")
    boolean printConfig;

    /** nanoGPT's estimate_mfu reference: an A100's dense BF16 peak. */
    static final double A100_BF16_TFLOPS = 312;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder: checkpoints/, metrics.jsonl, report.html, "
            + "data.json (default: runs/train). With --resume: a new run folder continuing from that checkpoint.")
    Path out;

    static final Path DEFAULT_OUT = Path.of("runs/train");

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue a run folder (its newest checkpoint) or "
            + "one checkpoint folder exactly, on the data the run stored in data.json, in the run folder the "
            + "checkpoint belongs to (or in --out).")
    Path resume;


    @Option(names = "--device", description = "cpu, gpu, gpu:N, or gpu:0,1,... for data parallel over several GPUs "
            + "(default: ${DEFAULT-VALUE}).")
    String device = "cpu";

    @Option(names = "--threads", description = "CPU threads for libtorch (default: all cores; measure 1 against it "
            + "for tiny models on a busy machine).")
    Integer threads;

    @Option(names = "--peak-tflops", description = "Peak dense TFLOP/s of one device, for the MFU figure (default: "
            + "312, an A100's BF16 peak as nanoGPT assumes, on GPUs; none on the CPU). 0 turns MFU off.")
    Double peakTflops;

    @Option(names = "--kernels", description = "fused (TorchScript: fused attention, norms, casts) or reference (plain "
            + "DJL) (default: ${DEFAULT-VALUE}).")
    String kernels = "fused";

    // ---- train config flags: each overrides the key of the same meaning --------------------------------------------
    @Option(names = "--seed") Long seed;
    @Option(names = "--batch-size", description = "Sequences per micro-batch.") Integer batchSize;
    @Option(names = "--accumulation", description = "Micro-batches per optimizer step.") Integer accumulation;
    @Option(names = "--context", description = "Tokens per training sequence.") Integer context;
    @Option(names = "--max-steps") Integer maxSteps;
    @Option(names = "--schedule", description = "cosine, linear or constant.") String schedule;
    @Option(names = "--lr") Double lr;
    @Option(names = "--min-lr") Double minLr;
    @Option(names = "--warmup", description = "Warmup steps.") Integer warmup;
    @Option(names = "--weight-decay") Double weightDecay;
    @Option(names = "--beta1") Double beta1;
    @Option(names = "--beta2") Double beta2;
    @Option(names = "--grad-clip", description = "Max global gradient norm, 0 = off.") Double gradClip;
    @Option(names = "--precision", description = "fp32, fp16 (loss scaling) or bf16.") String precision;
    @Option(names = "--eval-interval") Integer evalInterval;
    @Option(names = "--eval-batches") Integer evalBatches;
    @Option(names = "--checkpoint-interval") Integer checkpointInterval;
    @Option(names = "--keep", description = "Step checkpoints kept.") Integer keep;
    @Option(names = "--early-stop", description = "Evaluations without improvement before stopping, 0 = "
            + "off.") Integer earlyStop;
    @Option(names = "--log-interval") Integer logInterval;

    @Override
    public Integer call() throws IOException {
        try {
            return train();
        } finally {
            if (runLock != null) {
                runLock.close(); // the CLI exits right after; tests run several trainings in one JVM
            }
        }
    }

    /** Held from the moment the run folder is known until the training ends (the OS drops it if the JVM dies). */
    private ProcessLock runLock;

    private Integer train() throws IOException {
        PrintStream log = System.out;
        Path checkpoint = resume == null ? null : RunFolder.resolveResume(resume);
        TrainConfig config = resolveConfig(checkpoint == null ? TrainConfig.preset(preset)
                : CheckpointFolder.config(checkpoint));
        if (printConfig) {
            log.println(config.toJson());
            return 0;
        }
        int threadCount = new CpuThreads(threads == null ? 0 : threads).apply();
        Path sourceRun = checkpoint == null ? null : RunFolder.runOf(checkpoint);
        Path runDir = runFolder(checkpoint, sourceRun);
        boolean newRun = checkpoint == null || !runDir.toAbsolutePath().normalize().equals(sourceRun);
        RunFolder.requireWritableFolder(runDir); // a file or unwritable --out: say so before creating the lock
        runLock = RunLock.acquire(runDir); // two processes on one run folder would overwrite each other's work
        if (newRun) {
            RunFolder.requireNew(runDir); // under the lock: no other process starts a run here now
            String setAside = RunFolder.setAside(runDir);
            if (!setAside.isEmpty()) {
                log.println(setAside);
            }
        }
        if (checkpoint != null) {
            log.println("resume: " + checkpoint + ", continuing in " + (newRun ? "the new run folder " + runDir
                    + " (--out" + (sourceRun != null ? "; " + sourceRun + " stays as it is)" : ")")
                    : "its run folder " + runDir));
        }
        RunData runData = checkpoint == null ? data.forNewRun(log::println, false)
                : data.forResume(sourceRun, log::println);
        if (newRun) {
            runData.write(runDir); // what --resume of this run reads back
        }
        log.println("train config (" + (checkpoint == null ? "preset " + preset : "from " + checkpoint) + "):");
        log.println(config.toJson());

        Tokenizer tokenizer = checkpoint != null ? TokenizerFiles.load(checkpoint.resolve(CheckpointFolder.TOKENIZER))
                : runData.tokenizer() != null ? TokenizerFiles.load(Path.of(runData.tokenizer())) : null;
        // a size the machine cannot hold is refused now, not after the data is read and the model built
        ModelConfig planned = checkpoint != null ? ModelFiles.readConfig(checkpoint.resolve(CheckpointFolder.MODEL))
                : newModelConfig(tokenizer != null ? tokenizer.vocabSize() : CHAR_VOCAB_AT_LEAST, config);
        OptionalLong physical = Machine.local().memoryBytes();
        // on a GPU the activations live in its own memory, which libtorch's out-of-memory error reports instead
        if (physical.isPresent() && !device.trim().toLowerCase(Locale.ROOT).startsWith("gpu")) {
            TrainingMemory.require(planned, config, physical.getAsLong(), Runtime.getRuntime().maxMemory());
        }
        TrainingData source = TrainingData.open(runData, tokenizer, config, log::println);
        tokenizer = source.tokenizer();
        log.printf(Locale.ROOT, "data: %s, vocabulary %d%n", source.description(), tokenizer.vocabSize());
        source.requireWindows(config.context()); // before the model is built

        List<Device> devices = parseDevices(device);
        Device dev = devices.get(0);
        Precision p = config.precision();
        try (ModelRuntime runtime = ModelRuntime.open(dev, KernelChoice.parse(kernels), p, config.seed())) {
            runtime.kernelFallback().ifPresent(reason -> log.println("stepslm: " + reason));
            ModelConfig modelConfig;
            LanguageModel model;
            if (checkpoint != null) {
                model = ModelFiles.load(checkpoint.resolve(CheckpointFolder.MODEL), runtime);
                modelConfig = model.config();
            } else {
                modelConfig = newModelConfig(tokenizer.vocabSize(), config);
                model = LanguageModel.create(modelConfig, runtime);
            }
            log.println("model config:");
            log.println(modelConfig.toJson());
            log.println(Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion() + ", kernels "
                    + runtime.kernels().name() + ", device " + runtime.device() + (devices.size() > 1
                    ? " (data parallel over " + devices + ")" : "") + ", CPU threads " + threadCount
                    + (CpuThreads.mklAvx512Switch() ? " (MKL AVX-512 switch on)" : ""));
            if (dev.isGpu()) { // which GPU, which libtorch and CUDA, so a GPU run's log says what it ran on
                GpuFacts.probe().report(devices.stream().map(Device::getDeviceId).toList(), p.id(),
                        runtime.kernels().name()).forEach(line -> log.println("  " + line));
            }
            try (source; model; Trainer trainer = new Trainer(model, tokenizer, config, runDir, log,
                    source.bytesPerToken())) {
                // data parallel over gpu:0,1,... (nothing on one device)
                trainer.replicateOn(devices.subList(1, devices.size()));
                double peak = peakTflops != null ? peakTflops : runtime.device().isGpu() ? A100_BF16_TFLOPS : 0;
                trainer.reportMfu(peak * 1e12);
                if (peak > 0) {
                    log.printf(Locale.ROOT, "MFU against %.1f TFLOP/s per device%s%n", peak,
                            peakTflops == null ? " (an A100's BF16 peak, as nanoGPT; set --peak-tflops for your GPU)"
                            : "");
                }
                LoaderState start = LoaderState.initial(config.seed());
                if (checkpoint != null) {
                    trainer.restore(checkpoint);
                    start = LoaderState.fromJson(trainer.loaderState());
                }
                trainer.afterEachEvaluation(TrainingReport.atEachEvaluation(runDir, config));
                Trainer.Result r;
                try (StopOnCtrlC stop = StopOnCtrlC.install(trainer)) {
                    r = trainer.run(source.train(start), source.validation());
                }
                log.printf(Locale.ROOT, "done: %s; best val loss %.4f at step %d; %.0f training tokens/s; run folder "
                        + "%s%n",
                        r.stopReason(), r.bestValLoss(), r.bestStep(), r.trainTokensPerSec(), runDir);
            }
        }
        return 0;
    }

    /**
     * Where the run goes: --out for a new run; with --resume, the run folder the checkpoint belongs to, or --out
     * when given (a new run folder seeded from the checkpoint).
     */
    private Path runFolder(Path checkpoint, Path sourceRun) {
        if (checkpoint == null || out != null) {
            return out != null ? out : DEFAULT_OUT;
        }
        if (sourceRun == null) {
            throw new IllegalArgumentException("the checkpoint " + checkpoint + " is not inside a run folder (<run>/"
                    + RunFolder.CHECKPOINTS + "/<name>): pass --out DIR for the run that continues from it");
        }
        return sourceRun;
    }

    /**
     * A lower bound of a --char vocabulary before the text is read (its special tokens and a few letters), for the
     * memory estimate: an estimate too low only lets a run start, never refuses one that fits.
     */
    static final int CHAR_VOCAB_AT_LEAST = 16;

    /** The model of a new run: the --model preset, --model-config, the architecture flags and --dropout. */
    private ModelConfig newModelConfig(int vocabSize, TrainConfig config) throws IOException {
        ModelConfig m = ModelConfig.preset(modelPreset, vocabSize);
        if (modelConfigFile != null) {
            m = m.withOverrides(readConfigFile(modelConfigFile, "--model-config"), modelConfigFile.toString())
                    .withVocabSize(vocabSize);
        }
        m = m.withOverrides(architectureFlags().toString(), "--positions/--norm/--mlp");
        if (dropout != null) {
            m = m.withDropout(dropout);
        }
        return config.context() > m.contextLength() ? m.withContextLength(config.context()) : m;
    }

    /** --positions, --norm and --mlp as model config keys (only the flags given). */
    JsonObject architectureFlags() {
        JsonObject o = new JsonObject();
        choice(o, "positions", "--positions", positions, "learned", "LEARNED", "rotary", "ROTARY");
        choice(o, "norm", "--norm", norm, "layer", "LAYER_NORM", "rms", "RMS_NORM");
        choice(o, "mlp", "--mlp", mlp, "gelu", "GELU", "swiglu", "SWIGLU");
        return o;
    }

    private static void choice(JsonObject o, String key, String flag, String value, String a, String aKey, String b,
                               String bKey) {
        if (value == null) {
            return;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!v.equals(a) && !v.equals(b)) {
            throw new IllegalArgumentException(flag + " must be " + a + " or " + b + ", got '" + value + "'");
        }
        o.addProperty(key, v.equals(a) ? aKey : bKey);
    }

    /** The text of a config file given with {@code option}, or an error naming the option and the path. */
    static String readConfigFile(Path file, String option) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException(option + " " + file + " does not exist: check the path", e);
        }
    }

    /** Precedence: {@code base} (preset or checkpoint), then --config, then flags. */
    TrainConfig resolveConfig(TrainConfig base) throws IOException {
        TrainConfig c = base;
        if (configFile != null) {
            JsonObject file;
            try {
                file = JsonParser.parseString(readConfigFile(configFile, "--config")).getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw new IllegalArgumentException("--config " + configFile + " is not a JSON object (" + e.getMessage()
                        + ")", e);
            }
            c = c.withOverrides(file, configFile.toString());
        }
        JsonObject flags = new JsonObject();
        put(flags, "seed", seed);
        put(flags, "batchSize", batchSize);
        put(flags, "accumulation", accumulation);
        put(flags, "context", context);
        put(flags, "maxSteps", maxSteps);
        put(flags, "schedule", schedule);
        put(flags, "learningRate", lr);
        put(flags, "minLearningRate", minLr);
        put(flags, "warmupSteps", warmup);
        put(flags, "weightDecay", weightDecay);
        put(flags, "beta1", beta1);
        put(flags, "beta2", beta2);
        put(flags, "gradClip", gradClip);
        put(flags, "precision", precision);
        put(flags, "evalInterval", evalInterval);
        put(flags, "evalBatches", evalBatches);
        put(flags, "checkpointInterval", checkpointInterval);
        put(flags, "keepCheckpoints", keep);
        put(flags, "earlyStopPatience", earlyStop);
        put(flags, "logInterval", logInterval);
        return c.withOverrides(flags, "the command-line flags");
    }

    private static void put(JsonObject o, String key, Object value) {
        if (value instanceof Number n) {
            o.addProperty(key, n);
        } else if (value instanceof String s) {
            o.addProperty(key, s);
        }
    }

    /** "cpu", "gpu" or "gpu:N", checked against the GPUs libtorch sees (one device: eval, demo). */
    static Device parseDevice(String text) {
        if (text.contains(",")) {
            throw new IllegalArgumentException("--device " + text + ": this command runs on one device; use e.g. "
                    + "--device gpu:0");
        }
        return new DeviceSetting(text).resolve();
    }

    /**
     * As {@link #parseDevice}, plus "gpu:0,1,...": data parallel over those GPUs, the first holding the primary model.
     */
    static List<Device> parseDevices(String text) {
        String d = text.trim().toLowerCase(Locale.ROOT);
        if (!d.matches("gpu:\\d+(,\\d+)+")) {
            return List.of(parseDevice(text));
        }
        List<Device> devices = new ArrayList<>();
        for (String index : d.substring(4).split(",")) {
            Device dev = new DeviceSetting("gpu:" + index).resolve();
            if (devices.contains(dev)) {
                throw new IllegalArgumentException("--device " + text + " names GPU " + index
                        + " twice: list each GPU once");
            }
            devices.add(dev);
        }
        return devices;
    }
}
