package io.stepslm.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.datasets.Document;
import io.stepslm.datasets.Documents;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.Manifest;
import io.stepslm.datasets.ShardDataset;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.Split;
import io.stepslm.datasets.TextFormat;
import io.stepslm.datasets.WindowSource;
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
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import io.stepslm.train.CheckpointFolder;
import io.stepslm.train.RunData;
import io.stepslm.train.RunFolder;
import io.stepslm.train.RunLock;
import io.stepslm.train.TokenCorpus;
import io.stepslm.train.TokenWindows;
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
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
    DataOptions data; // --input: text files, folders or globs (default: the built-in corpus)

    @Option(names = "--shards", paramLabel = "DIR", description = "A dataset from 'stepslm data prepare' (streamed "
            + "from disk; needs --tokenizer).")
    Path shards;

    @Option(names = "--val-fraction", description = "Last fraction of the token stream held out for validation "
            + "(default: 0.1, nanoGPT).")
    Double valFraction;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "A tokenizer.json (stepslm BPE, HuggingFace or "
            + "char).")
    Path tokenizerFile;

    @Option(names = "--char", description = "Character-level: build the vocabulary from the training text (nanoGPT "
            + "shakespeare_char).")
    boolean charLevel;

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

    @Spec
    CommandSpec spec;

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
    private RunLock runLock;

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
        RunData runData = checkpoint == null ? dataFlags(log::println, false) : resumedData(sourceRun, log);
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
        Data source;
        if (runData.shards() != null) {
            source = Data.shards(ShardDataset.open(Path.of(runData.shards()), tokenizer), config);
        } else {
            List<Document> documents = runData.inputs().isEmpty() ? builtinCorpus()
                    : read(new SourceSpec(runData.inputs(), DataOptions.textFormat(runData.format()),
                            runData.field() != null ? runData.field() : SourceSpec.DEFAULT_JSON_FIELD,
                            DataOptions.onErrorPolicy(runData.onError())), log::println);
            if (tokenizer == null) { // --char: the vocabulary of the text
                tokenizer = CharTokenizer.fromTexts(documents.stream().map(Document::text).iterator());
            }
            source = Data.memory(TokenCorpus.split(documents.iterator(), tokenizer, runData.valFraction()), config);
        }
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

    private boolean given(String flag) {
        return spec != null && spec.commandLine().getParseResult() != null
                && spec.commandLine().getParseResult().hasMatchedOption(flag);
    }

    private static String absolute(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize().toString();
    }

    private List<String> absoluteInputs() {
        return data.inputs(List.of()).stream().map(i -> absolute(Path.of(i))).toList();
    }

    /** The data flags of a new run, checked and with absolute paths, as {@link RunData#write} stores them. */
    private RunData dataFlags(Consumer<String> log, boolean tokenizerInCheckpoint) throws IOException {
        double fraction = valFraction != null ? valFraction : 0.1;
        if (shards != null) {
            if (!data.inputs(List.of()).isEmpty()) {
                throw new IllegalArgumentException("give either --shards DIR or --input files, not both");
            }
            if (tokenizerFile == null) {
                throw new IllegalArgumentException("--shards needs the tokenizer the dataset was prepared with: "
                        + "add --tokenizer FILE");
            }
            return new RunData(List.of(), null, null, "fail", absolute(shards), absolute(tokenizerFile), false,
                    fraction);
        }
        if (tokenizerFile != null && charLevel) {
            throw new IllegalArgumentException("give either --tokenizer FILE or --char, not both");
        }
        if (tokenizerFile == null && !charLevel && !tokenizerInCheckpoint) {
            throw new IllegalArgumentException("no tokenizer: pass --tokenizer tokenizer.json (see 'stepslm tokenizer "
                    + "train') or --char for a character-level vocabulary built from the data");
        }
        if (data.inputs(List.of()).isEmpty()) {
            return new RunData(List.of(), null, null, "fail", null, absolute(tokenizerFile), charLevel, fraction);
        }
        SourceSpec s = data.sourceSpec(List.of(), log); // the format by the file names when --format is not given
        return new RunData(absoluteInputs(), DataOptions.formatName(s.format()),
                s.format() == TextFormat.JSONL ? s.jsonField() : null, s.onError().name().toLowerCase(Locale.ROOT),
                null, absolute(tokenizerFile), charLevel, fraction);
    }

    /**
     * The data of a resumed run: what its run folder stored, each data flag given again checked against it; a run
     * without {@link RunData#FILE} (an older stepslm, or a checkpoint outside a run folder) takes the flags.
     */
    private RunData resumedData(Path sourceRun, PrintStream log) throws IOException {
        RunData stored = sourceRun == null ? null : RunData.read(sourceRun);
        if (stored == null) {
            boolean anyText = !data.inputs(List.of()).isEmpty();
            RunData flags = shards != null || anyText || tokenizerFile != null || charLevel
                    ? dataFlags(log::println, true) : new RunData(List.of(), null, null, "fail", null, null, true,
                    valFraction != null ? valFraction : 0.1);
            log.println("data: from the flags (" + (sourceRun == null ? "the checkpoint is outside a run folder"
                    : sourceRun.resolve(RunData.FILE) + " does not exist") + "): " + flags.describe());
            return flags;
        }
        Path file = sourceRun.resolve(RunData.FILE);
        String fix = " to resume on the run's own data, or start a new run with --out";
        for (String flag : List.of("--input", "--data")) {
            if (given(flag)) {
                requireSame(flag, absoluteInputs(), stored.inputs(), file, fix);
            }
        }
        if (given("--shards")) {
            requireSame("--shards", absolute(shards), stored.shards(), file, fix);
        }
        if (given("--format")) {
            requireSame("--format", DataOptions.formatName(DataOptions.textFormat(data.format)), stored.format(), file,
                    fix);
        }
        if (given("--field") || given("--json-field")) {
            requireSame(given("--field") ? "--field" : "--json-field", data.field != null ? data.field
                    : data.jsonFieldAlias, stored.field(), file, fix);
        }
        if (given("--on-error")) {
            requireSame("--on-error", DataOptions.onErrorPolicy(data.onError).name().toLowerCase(Locale.ROOT),
                    stored.onError(), file, fix);
        }
        if (given("--tokenizer")) {
            requireSame("--tokenizer", absolute(tokenizerFile), stored.tokenizer(), file, fix);
        }
        if (given("--char")) {
            requireSame("--char", charLevel, stored.charLevel(), file, fix);
        }
        if (given("--val-fraction")) {
            requireSame("--val-fraction", valFraction, stored.valFraction(), file, fix);
        }
        log.println("data: from the run folder (" + file + "): " + stored.describe());
        return stored;
    }

    private static void requireSame(String flag, Object given, Object stored, Path file, String fix) {
        if (!java.util.Objects.equals(given, stored)) {
            throw new IllegalArgumentException(flag + " " + given + " does not match the data this run was trained on: "
                    + file + " holds " + (stored == null ? "no " + flag : flag + " " + stored) + "; drop " + flag
                    + fix);
        }
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

    /** Where the windows come from: token ids in memory (text files) or memory-mapped shards on disk. */
    interface Data extends AutoCloseable {
        String description();

        double bytesPerToken();

        WindowSource train(LoaderState start);

        Trainer.Validation validation();

        @Override
        void close() throws IOException;

        long trainTokens();

        long validationTokens();

        /** Refuses a --context that the data cannot fill with one window of context + 1 tokens. */
        default void requireWindows(int context) {
            long[] tokens = {trainTokens(), validationTokens()};
            String[] part = {"training", "validation"};
            for (int i = 0; i < 2; i++) {
                if (tokens[i] < context + 1L) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "--context %d needs windows of %d "
                            + "tokens, but the %s split holds only %,d tokens: lower --context to at most %d, or "
                            + "give more text%s", context, context + 1, part[i], tokens[i], Math.max(tokens[i] - 1, 0),
                            i == 1 ? " (or a larger --val-fraction)" : ""));
                }
            }
        }

        static Data memory(TokenCorpus corpus, TrainConfig config) {
            return new Data() {
                public String description() {
                    return String.format(Locale.ROOT, "%,d training tokens, %,d validation tokens (in memory)",
                            corpus.train().length, corpus.validation().length);
                }

                public double bytesPerToken() {
                    return corpus.bytesPerToken();
                }

                public long trainTokens() {
                    return corpus.train().length;
                }

                public long validationTokens() {
                    return corpus.validation().length;
                }

                public WindowSource train(LoaderState start) {
                    return TokenWindows.random(corpus.train(), config.context(), start);
                }

                public Trainer.Validation validation() {
                    return () -> TokenWindows.sequential(corpus.validation(), config.context());
                }

                public void close() {}
            };
        }

        static Data shards(ShardDataset ds, TrainConfig config) {
            long bytes = ds.manifest().sources().stream().mapToLong(Manifest.SourceEntry::bytes).sum();
            long tokens = ds.manifest().sources().stream().mapToLong(Manifest.SourceEntry::tokens).sum();
            return new Data() {
                public String description() {
                    return String.format(Locale.ROOT, "%,d training tokens, %,d validation tokens (shards in %s)",
                            ds.tokens(Split.Part.TRAIN), ds.tokens(Split.Part.VALIDATION), ds.dir());
                }

                public double bytesPerToken() {
                    return tokens > 0 ? (double) bytes / tokens : 0;
                }

                public long trainTokens() {
                    return ds.tokens(Split.Part.TRAIN);
                }

                public long validationTokens() {
                    return ds.tokens(Split.Part.VALIDATION);
                }

                public WindowSource train(LoaderState start) {
                    return ds.sampler(Split.Part.TRAIN, config.context(), start);
                }

                public Trainer.Validation validation() {
                    return () -> ds.sequential(Split.Part.VALIDATION, config.context(), false,
                            LoaderState.initial(config.seed()));
                }

                public void close() throws IOException {
                    ds.close();
                }
            };
        }
    }

    /**
     * The documents of the inputs (--input plus {@code more}), or the built-in corpus when there are none; files
     * whose text was repaired or skipped in part are reported to {@code warn}, one line each.
     */
    static List<Document> readDocuments(DataOptions data, List<String> more, Consumer<String> warn) throws IOException {
        return data.inputs(more).isEmpty() ? builtinCorpus() : read(data.sourceSpec(more, warn), warn);
    }

    private static List<Document> builtinCorpus() {
        return new ArrayList<>(List.of(new Document(BuiltinCorpus.NAME, BuiltinCorpus.text())));
    }

    /** The documents of {@code spec}, with repairs and skips reported to {@code warn}. */
    static List<Document> read(SourceSpec spec, Consumer<String> warn) throws IOException {
        List<Document> docs = new ArrayList<>();
        try (Documents d = Documents.open(spec)) {
            d.forEachRemaining(docs::add);
            DataOptions.printRepairs(d.report(), warn);
        }
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("the inputs " + spec.inputs() + " hold no text: give non-empty files "
                    + "(for JSON Lines, name the text's field with --field)");
        }
        return docs;
    }
}
