package io.stepslm.cli;

import ai.djl.Device;
import com.google.gson.JsonObject;
import io.stepslm.experiment.ExperimentConfig;
import io.stepslm.experiment.ExperimentReport;
import io.stepslm.experiment.Pair;
import io.stepslm.experiment.StepsVsPlain;
import io.stepslm.machine.CpuThreads;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.InputFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code stepslm experiment steps-vs-plain}: parameter-matched plain and StepsNet pairs, several sizes and seeds. */
@Command(
        name = "steps-vs-plain",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Train plain residual Transformers and their parameter-matched StepsNets (the paper's 3-step",
                "recipe) on the same data, tokens, schedule and seeds; score each final checkpoint as 'stepslm eval'",
                "does, run the diagnostics, and write results.json and report.html in --out. Each run is an ordinary",
                "run folder: run the same command again to resume a killed experiment (finished runs are reused).",
                "On a CPU the runs are shared by one worker process per core (--workers); processes started",
                "separately on the same --out share them too. The default (preset cpu, Austen) takes about",
                "80 minutes on 2 CPU cores."},
        footer = {"", "Examples:",
                "  stepslm experiment steps-vs-plain --out runs/svp",
                "  stepslm experiment steps-vs-plain --out runs/quick --pair small:128:4:4 --seeds 0 --max-steps 100",
                "  stepslm experiment steps-vs-plain --preset paper-30m --data wikitext-103/train.txt "
                        + "--data wikitext-103/valid.txt --val-file valid.txt --device gpu --out runs/30m"})
public final class StepsVsPlainCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "cpu (three pairs, ~80 min on 2 cores), paper-30m (the paper's 30M pair, "
            + "a GPU run) or tiny (seconds) (default: ${DEFAULT-VALUE}).")
    String preset = "cpu";

    @Option(names = "--pair", paramLabel = "NAME:WIDTH:DEPTH:HEADS", description = "A plain model to pair with its "
            + "StepsNet, repeatable; replaces the preset's pairs (cpu: small:128:4:4, medium:192:4:6, "
            + "deep-narrow:64:16:4).")
    List<String> pairs = new ArrayList<>();

    @Option(names = "--seeds", split = ",", description = "Seeds, one run per model and seed (default: the "
            + "preset's, 0,1,2).")
    List<Long> seeds = new ArrayList<>();

    @Option(names = "--vocab-size", description = "BPE vocabulary trained on the training files (default: the "
            + "preset's, 8192).")
    Integer vocabSize;

    @Option(names = "--data", paramLabel = "PATH", description = "Text files or folders, one document per file "
            + "(default: ${DEFAULT-VALUE}).")
    List<String> data = new ArrayList<>(List.of("../shared/data/austen"));

    @Option(names = "--val-file", paramLabel = "FILE", description = "The file of --data held out for validation, by "
            + "name or path (default: ${DEFAULT-VALUE}).")
    String valFile = "persuasion.txt";

    @Option(names = "--no-equal-time", negatable = true, description = "Also train each StepsNet for the CPU time "
            + "its plain partner took (default: on; --no-equal-time skips those runs).")
    boolean equalTime = true;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("runs/steps-vs-plain");

    @Option(names = "--workers", description = "Processes that share the runs, each claiming a (pair, seed) group at "
            + "a time (default: one per CPU core, at most one per group; 1 on a GPU).")
    Integer workers;

    @Option(names = "--child-worker", hidden = true, description = "Set by --workers on the processes it starts.")
    boolean childWorker;

    @Option(names = "--device", description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
    String device = "cpu";

    @Option(names = "--threads", description = "libtorch CPU threads per worker (default: the cores divided by "
            + "--workers).")
    Integer threads;

    @Option(names = "--kernels", description = "fused or reference (default: ${DEFAULT-VALUE}).")
    String kernels = "fused";

    // The training settings below override the preset's (printed at start as "experiment config").
    @Option(names = "--max-steps", description = "Optimizer steps per run, the same for both models of a pair "
            + "(default: the preset's).")
    Integer maxSteps;
    @Option(names = "--batch-size", description = "Sequences per step (default: the preset's).")
    Integer batchSize;
    @Option(names = "--context", description = "Tokens per sequence (default: the preset's).") Integer context;
    @Option(names = "--lr", description = "Peak learning rate (default: the preset's).") Double lr;
    @Option(names = "--min-lr", description = "Final cosine learning rate (default: the preset's).") Double minLr;
    @Option(names = "--warmup", description = "Warm-up steps (default: the preset's).") Integer warmup;
    @Option(names = "--eval-interval", description = "Steps between evaluations (default: the preset's).")
    Integer evalInterval;
    @Option(names = "--eval-batches", description = "Validation batches per evaluation (default: the preset's).")
    Integer evalBatches;
    @Option(names = "--precision", description = "fp32, fp16 or bf16 (default: the preset's).") String precision;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintStream log = System.out;
        ExperimentConfig config = resolve();
        Device dev = TrainCommand.parseDevice(device);
        int cores = Runtime.getRuntime().availableProcessors();
        int groups = config.pairs().size() * config.seeds().size();
        int processes = childWorker ? 1 : workers != null ? workers : dev.isGpu() ? 1
                : Math.max(1, Math.min(groups, cores / (threads != null ? Math.max(1, threads) : 1)));
        if (processes < 1) {
            throw new IllegalArgumentException("--workers " + processes + " must be at least 1");
        }
        int perWorker = threads != null ? threads : Math.max(1, cores / processes);
        int threadCount = new CpuThreads(perWorker).apply();
        StepsVsPlain.Inputs inputs = inputs();
        if (!childWorker) {
            log.println("experiment config (preset " + preset + "):");
            log.println(gsonPretty(config));
            log.printf(Locale.ROOT, "%d worker process(es), %d libtorch thread(s) each, output %s%n", processes,
                    threadCount, out);
        }
        Precision p = config.train().precision();
        try (ModelRuntime runtime = ModelRuntime.open(dev, KernelChoice.parse(kernels), p, 0)) {
            runtime.kernelFallback().ifPresent(reason -> log.println("stepslm: " + reason));
            StepsVsPlain runner = new StepsVsPlain(config, inputs, out, runtime, log);
            runner.prepare(); // the tokenizer is trained once, here, before any other worker starts
            List<String> failed = List.of();
            try (ExperimentWorkers others = ExperimentWorkers.start(processes - 1, childArgs(threadCount), log)) {
                runner.run();
                failed = others.awaitAll();
            }
            if (childWorker) {
                return 0;
            }
            ExperimentReport r = runner.writeReport(); // every worker's results
            for (ExperimentReport.PairSummary s : r.pairs()) {
                log.printf(Locale.ROOT, "%s: val loss plain %.4f, steps %.4f (delta %+.4f over %d seeds); equal time "
                                + "delta %+.4f%n", s.pair(), s.plainLoss().mean(), s.stepsLoss().mean(),
                        s.deltaTokens().mean(), s.deltaTokens().n(), s.deltaTime().mean());
            }
            log.println((r.pending().isEmpty() ? "complete" : r.pending().size() + " runs pending (in training by "
                    + "another process, or interrupted: run the command again)") + "; report "
                    + out.resolve("report.html"));
            failed.forEach(spec.commandLine().getErr()::println);
            return failed.isEmpty() ? 0 : 1;
        }
    }

    /** This command's arguments for a child worker: the same, as one worker with this process's thread count. */
    private List<String> childArgs(int threadCount) {
        List<String> args = new ArrayList<>(List.of("experiment", "steps-vs-plain"));
        List<String> given = spec.commandLine().getParseResult().originalArgs();
        int from = given.indexOf("steps-vs-plain") + 1;
        for (int i = from; i < given.size(); i++) {
            String a = given.get(i);
            if (a.equals("--workers") || a.equals("--threads")) {
                i++; // and its value
            } else if (!a.startsWith("--workers=") && !a.startsWith("--threads=")) {
                args.add(a);
            }
        }
        args.addAll(List.of("--child-worker", "--threads", Integer.toString(threadCount)));
        return args;
    }

    private static String gsonPretty(ExperimentConfig c) {
        return new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(c);
    }

    ExperimentConfig resolve() {
        ExperimentConfig c = ExperimentConfig.preset(preset);
        if (!pairs.isEmpty()) {
            c = c.withPairs(pairs.stream().map(Pair::parse).toList());
        }
        if (!seeds.isEmpty()) {
            c = c.withSeeds(seeds);
        }
        if (vocabSize != null) {
            c = c.withVocabSize(vocabSize);
        }
        JsonObject o = new JsonObject();
        put(o, "maxSteps", maxSteps);
        put(o, "batchSize", batchSize);
        put(o, "context", context);
        put(o, "learningRate", lr);
        put(o, "minLearningRate", minLr);
        put(o, "warmupSteps", warmup);
        put(o, "evalInterval", evalInterval);
        put(o, "evalBatches", evalBatches);
        if (precision != null) {
            o.addProperty("precision", precision.toLowerCase(Locale.ROOT));
        }
        return c.withTrain(c.train().withOverrides(o, "the command-line flags")).withEqualTime(equalTime);
    }

    private static void put(JsonObject o, String key, Number value) {
        if (value != null) {
            o.addProperty(key, value);
        }
    }

    /** --data minus --val-file, and --val-file. */
    StepsVsPlain.Inputs inputs() throws IOException {
        List<Path> files;
        try {
            files = InputFiles.resolve(data);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("--data " + data + ": " + e.getFile() + " does not exist: pass --data "
                    + "with the text files (the default is ../shared/data/austen from the project folder)", e);
        }
        List<Path> train = new ArrayList<>();
        Path validation = null;
        for (Path f : files) {
            if (f.getFileName().toString().equals(valFile) || f.equals(Path.of(valFile))) {
                validation = f;
            } else {
                train.add(f);
            }
        }
        if (validation == null) {
            Path given = Path.of(valFile);
            if (!Files.isRegularFile(given)) {
                throw new IllegalArgumentException("--val-file " + valFile + " is neither one of the --data files nor "
                        + "a file: name one of " + files.stream().map(p -> p.getFileName().toString()).toList());
            }
            validation = given;
        }
        if (train.isEmpty()) {
            throw new IllegalArgumentException("--data " + data + " holds no training file besides --val-file "
                    + valFile + ": add text files");
        }
        return new StepsVsPlain.Inputs(train, validation);
    }
}
