package io.stepslm.experiment;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.datasets.Document;
import io.stepslm.datasets.DocumentIds;
import io.stepslm.datasets.Documents;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.files.AtomicFiles;
import io.stepslm.files.ProcessLock;
import io.stepslm.model.ModelFiles;
import io.stepslm.machine.CpuThreads;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import io.stepslm.train.RunFolder;
import io.stepslm.train.Metrics;
import io.stepslm.train.Perplexity;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.CheckpointFolder;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.TrainState;
import io.stepslm.train.Trainer;
import io.stepslm.train.TrainingReport;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * {@code stepslm experiment steps-vs-plain}: trains every pair of the config as plain model and StepsNet (and the
 * StepsNet again for the plain run's wall-clock time) for every seed, scores each final checkpoint on the validation
 * file exactly as {@code stepslm eval} does, diagnoses it, and rewrites {@code results.json} and {@code report.html}
 * after every (pair, seed) group. Layout of the output folder:
 * <pre>
 *   tokenizer-&lt;V&gt;.json   the BPE trained on the training files (reused)
 *   runs/&lt;pair&gt;-&lt;kind&gt;-s&lt;seed&gt;/   ordinary run folders (checkpoints/, metrics.jsonl, report.html,
 *                               train.log)
 *                               plus result.json once scored: an existing one is reused, a run without one resumes
 *                               from its newest checkpoint
 *   results.json, report.html   every number, and the summary with charts
 * </pre>
 * Processes can share the work (see {@link #run}), each writing the report from the result files on disk, so the last
 * one to finish writes the complete report.
 */
public final class StepsVsPlain {

    public static final String RESULT = "result.json";
    public static final String RUNS = "runs";
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .disableHtmlEscaping().create();

    /** Training text files and the validation file (held out whole, as persuasion.txt for Austen). */
    public record Inputs(List<Path> trainFiles, Path validationFile) {
        public Inputs {
            if (trainFiles == null || trainFiles.isEmpty() || validationFile == null) {
                throw new IllegalArgumentException("give training files and one validation file");
            }
            if (trainFiles.contains(validationFile)) {
                throw new IllegalArgumentException("the validation file " + validationFile + " is also a training "
                        + "file: hold it out");
            }
            trainFiles = List.copyOf(trainFiles);
        }
    }

    private final ExperimentConfig config;
    private final Inputs inputs;
    private final Path out;
    private final ModelRuntime runtime;
    private final PrintStream log;

    private Tokenizer tokenizer;
    private int[] trainIds;
    private int[] validationIds; // documents joined as in training, for the trainer's evaluations and diagnostics
    private int[] scoredIds;     // end-of-text first, as stepslm eval scores a file
    private long validationBytes;

    /** @param runtime device, kernels and precision of every run (its seed is replaced by each run's) */
    public StepsVsPlain(ExperimentConfig config, Inputs inputs, Path out, ModelRuntime runtime, PrintStream log) {
        this.config = config;
        this.inputs = inputs;
        this.out = out;
        this.runtime = runtime;
        this.log = log;
    }

    /**
     * Every run by (seed, pair) group, seeds outermost so that a partial experiment covers all sizes: plain,
     * StepsNet, and (with equalTime) the time-matched StepsNet.
     */
    public List<List<RunSpec>> plan() {
        List<List<RunSpec>> groups = new ArrayList<>();
        for (long seed : config.seeds()) {
            for (Pair p : config.pairs()) {
                List<RunSpec> g = new ArrayList<>();
                g.add(new RunSpec(p, RunSpec.Kind.PLAIN, seed));
                g.add(new RunSpec(p, RunSpec.Kind.STEPS, seed));
                if (config.equalTime()) {
                    g.add(new RunSpec(p, RunSpec.Kind.STEPS_TIME, seed));
                }
                groups.add(g);
            }
        }
        return groups;
    }

    /**
     * Runs every run of the plan that no other process is running, and returns the report over every result on disk.
     * Processes share one {@code out} by claiming a (pair, seed) group at a time (a {@link ProcessLock} on {@code
     * runs/.<pair>-s<seed>.lock}, dropped by the OS if the process dies): start the same command several times, or
     * once with several workers, and each group is trained once. A group another process holds is skipped; the
     * process that holds it finishes it.
     */
    public ExperimentReport run() throws IOException {
        prepare();
        // equal tokens first for every seed and pair, the time-matched runs after them: a partial experiment then
        // has the main comparison over as many seeds as possible
        List<List<RunSpec>> groups = plan();
        for (List<RunSpec> group : groups) {
            claimed(group, false);
        }
        if (config.equalTime()) {
            for (List<RunSpec> group : groups) {
                claimed(group, true);
            }
        }
        return writeReport();
    }

    /** Reads the data and trains (or reuses) the tokenizer; {@link #run} calls it, or a caller first. */
    public void prepare() throws IOException {
        if (tokenizer != null) {
            return;
        }
        Files.createDirectories(out.resolve(RUNS));
        prepareData();
        int v = tokenizer.vocabSize();
        for (Pair p : config.pairs()) {
            p.checkMatched(v, config.train().context());
        }
    }

    /** The equal-token runs of a group, or its time-matched run, under the group's claim unless all are done. */
    private void claimed(List<RunSpec> group, boolean timeMatched) throws IOException {
        RunSpec first = group.get(0);
        List<RunSpec> todo = timeMatched ? List.of(group.get(2)) : group.subList(0, 2);
        boolean done = true;
        for (RunSpec s : todo) {
            done &= Files.exists(resultFile(s));
        }
        ProcessLock claim = null;
        if (!done) {
            Path lock = out.resolve(RUNS).resolve("." + first.pair().name() + "-s" + first.seed() + ".lock");
            claim = ProcessLock.tryAcquire(lock);
            if (claim == null) {
                log.printf(Locale.ROOT, "%s-s%d: in training by another process (pid %s), skipped here%n",
                        first.pair().name(), first.seed(), ProcessLock.holder(lock));
                return;
            }
        }
        try {
            RunResult plain = runOrReuse(group.get(0), config.train().maxSteps());
            RunResult steps = runOrReuse(group.get(1), config.train().maxSteps());
            if (timeMatched) {
                timeMatched(group.get(2), plain, steps);
            }
            if (claim != null) {
                writeReport();
            }
        } finally {
            if (claim != null) {
                claim.close();
            }
        }
    }

    /**
     * The StepsNet trained for its plain partner's time. When that is the equal-token step count (the StepsNet is
     * as fast per step), the run would repeat the equal-token one bit for bit, so its result is that one's.
     */
    private void timeMatched(RunSpec spec, RunResult plain, RunResult steps) throws IOException {
        int n = equalTimeSteps(plain, steps, cpuRatio(spec.pair()));
        if (n != steps.steps() || Files.exists(resultFile(spec))) {
            runOrReuse(spec, n);
            return;
        }
        RunResult r = steps.as(spec.name(), spec.kind().id);
        AtomicFiles.writeString(resultFile(spec), GSON.toJson(r));
        log.printf(Locale.ROOT, "%s: %d steps, as many as %s took in the same time: its result is that run's, val loss "
                + "%.4f%n", spec.name(), n, steps.name(), r.valLoss());
    }

    /**
     * The mean over the pair's seeds of plain / StepsNet CPU seconds per step, where both were measured: the time
     * ratio of a seed whose run was resumed (no CPU measure) comes from the others, not from wall-clock seconds that
     * include every pause and every other process of the sessions it spans.
     */
    private OptionalDouble cpuRatio(Pair pair) throws IOException {
        List<Double> ratios = new ArrayList<>();
        for (long seed : config.seeds()) {
            Path a = resultFile(new RunSpec(pair, RunSpec.Kind.PLAIN, seed));
            Path b = resultFile(new RunSpec(pair, RunSpec.Kind.STEPS, seed));
            if (Files.exists(a) && Files.exists(b)) {
                double ta = readResult(a).cpuSecondsPerStep();
                double tb = readResult(b).cpuSecondsPerStep();
                if (Double.isFinite(ta) && Double.isFinite(tb)) {
                    ratios.add(ta / tb);
                }
            }
        }
        return ratios.stream().mapToDouble(Double::doubleValue).average();
    }

    private Path resultFile(RunSpec spec) {
        return out.resolve(RUNS).resolve(spec.name()).resolve(RESULT);
    }

    /**
     * Steps that make the StepsNet train as long as its plain partner did: the plain run's steps times the ratio of
     * their times per step. Process CPU seconds per step when both were measured (other processes on a shared
     * machine do not inflate them; with one libtorch thread they are the compute itself), else {@code pairRatio}
     * (plain / StepsNet CPU time per step over the pair's other seeds), else wall-clock seconds.
     */
    static int equalTimeSteps(RunResult plain, RunResult steps, OptionalDouble pairRatio) {
        double ratio;
        if (Double.isFinite(plain.cpuSecondsPerStep()) && Double.isFinite(steps.cpuSecondsPerStep())) {
            ratio = plain.cpuSecondsPerStep() / steps.cpuSecondsPerStep();
        } else if (pairRatio.isPresent()) {
            ratio = pairRatio.getAsDouble();
        } else {
            ratio = (plain.trainSeconds() / plain.steps()) / (steps.trainSeconds() / steps.steps());
        }
        return (int) Math.max(1, Math.round(plain.steps() * ratio));
    }

    private void prepareData() throws IOException {
        Path tokFile = out.resolve("tokenizer-" + config.vocabSize() + ".json");
        if (Files.exists(tokFile)) {
            tokenizer = TokenizerFiles.load(tokFile);
        } else {
            log.printf(Locale.ROOT, "training a %d-id byte-level BPE on %d files%n", config.vocabSize(),
                    inputs.trainFiles().size());
            Tokenizer t = new BpeTrainer(BpeTrainerConfig.gpt2(config.vocabSize())).train(inputs.trainFiles())
                    .tokenizer();
            AtomicFiles.write(tokFile, t::save); // two workers may race: both write the same file
            tokenizer = TokenizerFiles.load(tokFile);
        }
        List<Document> train = read(inputs.trainFiles());
        List<Document> validation = read(List.of(inputs.validationFile()));
        trainIds = joined(train);
        validationIds = joined(validation);
        scoredIds = DocumentIds.afterEndOfText(validationIds, tokenizer);
        validationBytes = 0;
        for (Document d : validation) {
            validationBytes += d.text().getBytes(StandardCharsets.UTF_8).length;
        }
        log.printf(Locale.ROOT, "data: %,d training tokens (%d files), %,d validation tokens (%s), vocabulary %d%n",
                trainIds.length, inputs.trainFiles().size(), validationIds.length, inputs.validationFile(),
                tokenizer.vocabSize());
    }

    private static List<Document> read(List<Path> files) throws IOException {
        List<Document> docs = new ArrayList<>();
        List<String> names = files.stream().map(Path::toString).toList();
        try (Documents d = Documents.open(SourceSpec.textFiles(names))) {
            d.forEachRemaining(docs::add);
        }
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("the files " + names + " hold no text: give non-empty text files");
        }
        return docs;
    }

    /** Each document's ids followed by end-of-text (GPT-2's separator), as {@code stepslm train} joins them. */
    private int[] joined(List<Document> docs) {
        return DocumentIds.join(docs.iterator(), tokenizer);
    }

    private RunResult runOrReuse(RunSpec spec, int maxSteps) throws IOException {
        Path dir = out.resolve(RUNS).resolve(spec.name());
        int context = config.train().context();
        ModelConfig model = spec.model(tokenizer.vocabSize(), context);
        TrainConfig train = config.trainFor(spec.seed(), maxSteps);
        Path resultFile = resultFile(spec);
        if (Files.exists(resultFile)) {
            RunResult r = readResult(resultFile);
            if (!r.model().equals(model) || !r.train().equals(train)) {
                throw new IllegalArgumentException("the run folder " + dir + " was trained with other settings (its "
                        + RESULT + " differs in model or train config): delete that folder to train it again with "
                        + "these settings, or choose another --out");
            }
            log.printf(Locale.ROOT, "%s: done before, val loss %.4f (reused)%n", spec.name(), r.valLoss());
            return r;
        }
        Files.createDirectories(dir);
        Path checkpoint = newestCheckpoint(dir);
        double cpuPerStep = Double.NaN;
        if (checkpoint == null || TrainState.read(checkpoint).step() < maxSteps) {
            cpuPerStep = train(spec, dir, model, train, checkpoint);
        }
        checkpoint = newestCheckpoint(dir);
        TrainState state = checkpoint == null ? null : TrainState.read(checkpoint);
        if (state == null || state.step() != maxSteps) {
            throw new IllegalStateException(spec.name() + " stopped before step " + maxSteps + " (see " + dir
                    + "/train.log); run the experiment again to resume it");
        }
        RunResult r = score(spec, dir, checkpoint, model, train, state, cpuPerStep);
        AtomicFiles.writeString(resultFile, GSON.toJson(r));
        log.printf(Locale.ROOT, "%s: %d steps in %.0f s (%.0f tokens/s), val loss %.4f, perplexity %.2f, "
                        + "%.4f bits/byte%n",
                spec.name(), r.steps(), r.trainSeconds(), r.tokensPerSecond(), r.valLoss(), r.perplexity(),
                r.bitsPerByte());
        return r;
    }

    static RunResult readResult(Path file) throws IOException {
        try {
            return GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), RunResult.class);
        } catch (RuntimeException e) {
            throw new IOException(file + " is not a run result (" + e.getMessage() + "): delete it to score the run "
                    + "again", e);
        }
    }

    private static Path newestCheckpoint(Path dir) throws IOException {
        List<Path> steps = new RunFolder(dir).stepCheckpoints();
        return steps.isEmpty() ? null : steps.get(steps.size() - 1);
    }

    /**
     * Trains (or resumes) one run; returns the process CPU seconds per step after the first 10 steps (JIT and
     * TorchScript warm-up excluded, as the trainer's tokens/s), NaN when resumed.
     */
    private double train(RunSpec spec, Path dir, ModelConfig modelConfig, TrainConfig train, Path checkpoint)
            throws IOException {
        if (checkpoint == null) {
            RunFolder.clear(dir); // metrics of a session killed before its first checkpoint
        }
        ModelRuntime runtime = this.runtime.withSeed(spec.seed());
        log.printf(Locale.ROOT, "%s: %s %d steps (%s), log %s%n", spec.name(), checkpoint == null ? "training"
                : "resuming " + checkpoint.getFileName() + " to", train.maxSteps(), describe(modelConfig),
                dir.resolve("train.log"));
        try (OutputStream file = Files.newOutputStream(dir.resolve("train.log"), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
             PrintStream trainLog = new PrintStream(file, true, StandardCharsets.UTF_8);
             LanguageModel model = checkpoint == null ? LanguageModel.create(modelConfig, runtime)
                     : ModelFiles.load(checkpoint.resolve(CheckpointFolder.MODEL), runtime);
             Trainer trainer = new Trainer(model, tokenizer, train, dir, trainLog,
                     (double) validationBytes / validationIds.length)) {
            trainer.afterEachEvaluation(TrainingReport.atEachEvaluation(dir, train)); // the run folder's report.html
            LoaderState start = LoaderState.initial(train.seed());
            if (checkpoint != null) {
                trainer.restore(checkpoint);
                start = LoaderState.fromJson(trainer.loaderState());
            }
            SteadyClock clock = new SteadyClock(TokenWindows.random(trainIds, train.context(), start),
                    train.accumulation());
            Trainer.Result r = trainer.run(clock, () -> TokenWindows.sequential(validationIds, train.context()));
            trainLog.println("done: " + r.stopReason());
            return checkpoint == null ? clock.cpuSecondsPerStep() : Double.NaN;
        }
    }

    private RunResult score(RunSpec spec, Path dir, Path checkpoint, ModelConfig modelConfig, TrainConfig train,
                            TrainState state, double cpuPerStep) throws IOException {
        // a fresh FP32 load of the checkpoint, as stepslm eval does, not the trainer's model object
        ModelRuntime fp32 = runtime.withPrecision(Precision.FP32).withSeed(spec.seed());
        try (LanguageModel model = ModelFiles.load(checkpoint.resolve(CheckpointFolder.MODEL), fp32);
             LanguageModel init = LanguageModel.create(modelConfig, fp32)) {
            int ctx = model.config().contextLength();
            int stride = Math.max(1, ctx / 2);
            Perplexity.Score s = Perplexity.score(model, inputs.validationFile().toString(), scoredIds,
                    validationBytes, ctx, stride, 8);
            List<int[][]> windows = new ArrayList<>();
            try (TokenWindows w = TokenWindows.sequential(validationIds, train.context())) {
                for (int b = 0; b < config.diagnosisBatches() && w.hasNext(); b++) {
                    int[][] batch = w.next(train.batchSize());
                    if (batch.length == train.batchSize()) {
                        windows.add(batch);
                    }
                }
            }
            Diagnosis d = Diagnosis.of(model, init, windows, Diagnosis.defaultMaskChannels(modelConfig));
            long params = Diagnostics.parameterCount(modelConfig, true);
            long tokens = state.tokensSeen();
            return new RunResult(spec.name(), spec.pair().name(), spec.kind().id, spec.seed(), modelConfig, train,
                    params, Diagnostics.parameterCount(modelConfig, false), modelConfig.blocks(),
                    Diagnostics.flopsPerToken(modelConfig, train.context()), state.step(), tokens,
                    state.elapsedSeconds(), cpuPerStep, tokens / state.elapsedSeconds(),
                    out.relativize(checkpoint).toString(), ctx, stride, s.tokens(), s.loss(), s.perplexity(),
                    s.bitsPerByte(), curve(dir, train), d);
        }
    }

    /** The trainer's evaluations with cumulative training seconds (from its per-interval step times). */
    static List<RunResult.CurvePoint> curve(Path dir, TrainConfig train) throws IOException {
        List<RunResult.CurvePoint> points = new ArrayList<>();
        double seconds = 0;
        long lastStep = 0;
        for (String line : Files.readAllLines(dir.resolve(Metrics.FILE), StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            long step = o.get("step").getAsLong();
            if ("train".equals(o.get("type").getAsString()) && o.has("msPerStep")) {
                seconds += o.get("msPerStep").getAsDouble() * (step - lastStep) / 1000;
                lastStep = step;
            } else if ("eval".equals(o.get("type").getAsString())) {
                points.add(new RunResult.CurvePoint(step, step * train.tokensPerStep(), seconds,
                        o.get("valLoss").getAsDouble()));
            }
        }
        return points;
    }

    private static String describe(ModelConfig c) {
        StringBuilder b = new StringBuilder();
        for (ModelConfig.Step s : c.steps()) {
            b.append(b.length() == 0 ? "" : " + ").append(s.depth()).append(" x ").append(s.width());
        }
        return b + " blocks, " + String.format(Locale.ROOT, "%,d", Diagnostics.parameterCount(c, true)) + " parameters";
    }

    /** Rewrites results.json and report.html from every result file of the plan found on disk. */
    public ExperimentReport writeReport() throws IOException {
        List<RunResult> done = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        for (List<RunSpec> g : plan()) {
            for (RunSpec s : g) {
                Path f = resultFile(s);
                if (Files.exists(f)) {
                    done.add(readResult(f));
                } else {
                    pending.add(s.name());
                }
            }
        }
        ExperimentReport report = ExperimentReport.of(config, done, pending, describeData(), CpuThreads.current());
        report.write(out);
        return report;
    }

    private String describeData() {
        return String.format(Locale.ROOT, "train %s (%,d tokens); validation %s (%,d tokens, %,d bytes); "
                        + "byte-level BPE of %d ids trained on the training files", inputs.trainFiles(),
                trainIds.length, inputs.validationFile(), validationIds.length, validationBytes,
                tokenizer.vocabSize());
    }
}
