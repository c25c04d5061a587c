package io.stepslm.bench;

import ai.djl.engine.Engine;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.WindowSource;
import io.stepslm.machine.CpuThreads;
import io.stepslm.machine.DeviceSetting;
import io.stepslm.machine.Machine;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.TrainStep;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stepslm bench model}: training throughput of the model on this machine next to the PyTorch reference of
 * the same architecture run in the same invocation ({@code torch_reference.py} in the folder given by
 * {@code --anchors}). For each model, kernel implementation, precision and thread count it times {@code --iters}
 * calls of the trainer's own {@link TrainStep} after {@code --warmup}: forward+backward, unscale, global-norm clip
 * 1.0, AdamW, zero gradients, which is what torch_reference.py times per iteration; the ratio to PyTorch uses the
 * full step.
 */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Forward+backward (and full training step) tokens/s for model presets, reference and fused",
                "kernels, 1 and 2 threads, next to PyTorch (torch_reference.py, its best thread count) as a ratio.",
                "Random tokens; dropout 0 in both. The PyTorch peer runs when --anchors names the folder of",
                "torch_reference.py and setup_torch_cpu.sh has written --torch-env (bench/model.sh does both)."},
        footer = {"", "Examples:",
                "  stepslm bench model --no-torch",
                "  stepslm bench model --models char-tiny --kernels fused --threads 1 --iters 100 --no-torch",
                "  stepslm bench model --anchors ../shared/anchors --models char-small-steps --batch 16",
                "  bench/model.sh   (runs the PyTorch setup first when needed)"})
public final class ModelBenchCommand implements Callable<Integer> {

    /** Where PyTorch's peer run may take before it is stopped. */
    private static final Duration TORCH_TIMEOUT = Duration.ofMinutes(30);

    @Option(names = "--models", split = ",", description = "Presets (default: ${DEFAULT-VALUE}).",
            defaultValue = "char-tiny,char-tiny-steps,char-small,char-small-steps")
    List<String> models;

    @Option(names = "--kernels", split = ",", description = "fused and/or reference (default: ${DEFAULT-VALUE}).",
            defaultValue = "fused,reference")
    List<String> kernels;

    @Option(names = "--threads", split = ",", defaultValue = "1,2",
            description = "libtorch intra-op thread counts (default: ${DEFAULT-VALUE}).")
    List<Integer> threads;

    @Option(names = "--precision", split = ",", defaultValue = "fp32,bf16",
            description = "Compute precisions of matmuls/attention: fp32, fp16, bf16; reduced ones run with the "
                    + "fused kernels only (default: ${DEFAULT-VALUE}).")
    List<String> precision;

    @Option(names = "--device", description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).", defaultValue = "cpu")
    String device;

    @Option(names = "--batch", description = "Batch size; 0 = 12 for char-tiny (nanoGPT's CPU recipe), 8 otherwise.",
            defaultValue = "0")
    int batch;

    @Option(names = "--iters", description = "Timed iterations; 0 = 60 for char-tiny, 6 for larger models.",
            defaultValue = "0")
    int iters;

    @Option(names = "--warmup", description = "Untimed iterations first (default: ${DEFAULT-VALUE}).",
            defaultValue = "5")
    int warmup;

    @Option(names = "--vocab", description = "Vocabulary size, character level (default: ${DEFAULT-VALUE}).",
            defaultValue = "65")
    int vocab;

    @Option(names = "--anchors", paramLabel = "DIR", description = "Folder of torch_reference.py and "
            + "setup_torch_cpu.sh (the project keeps them in ../shared/anchors; bench/model.sh passes it). "
            + "Without it the PyTorch peer is skipped.")
    Path anchors;

    @Option(names = "--torch-env", paramLabel = "FILE", defaultValue = "/tmp/anchors/torch/env.sh",
            description = "The env.sh that setup_torch_cpu.sh writes: `export NAME=value` lines "
                    + "(default: ${DEFAULT-VALUE}, where that script puts it).")
    Path torchEnv;

    @Option(names = "--torch-threads", split = ",", defaultValue = "1,2", description = "PyTorch thread counts "
            + "to try; the best is the peer (default: ${DEFAULT-VALUE}).")
    List<Integer> torchThreads;

    @Option(names = "--torch-wait-policies", split = ",", defaultValue = "inherited,PASSIVE",
            description = "OpenMP wait policies to run PyTorch under: inherited (this process's) and/or PASSIVE, "
                    + "ACTIVE; the best run is the peer (default: ${DEFAULT-VALUE}). Debian's PyTorch also runs "
                    + "OpenBLAS's own threads, one per core, whatever --torch-threads says.")
    List<String> torchWaitPolicies;

    @Option(names = "--no-torch", description = "Skip the PyTorch peer.")
    boolean noTorch;

    @Spec
    CommandSpec spec;

    private PrintWriter out;

    /** One measured configuration. */
    record Result(String model, String kernels, int threads, double fwdBwdTokS, double stepTokS, double msPerStep,
                  double cpuMsPerStep) {
    }

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        List<Precision> precs = precision.stream().map(Precision::parse).toList();
        DeviceSetting dev = new DeviceSetting(device);
        List<KernelChoice> choices = kernels.stream().map(KernelChoice::parse).toList();
        for (String m : models) {
            ModelConfig.preset(m, vocab); // validates names before any long run
        }
        for (String policy : torchWaitPolicies) {
            if (!List.of("inherited", "passive", "active").contains(policy.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("unknown --torch-wait-policies value '" + policy
                        + "': use inherited, PASSIVE or ACTIVE");
            }
        }
        for (int t : threads) {
            new CpuThreads(t); // validates
        }
        if (iters < 0 || warmup < 0 || batch < 0) {
            throw new IllegalArgumentException("--iters " + iters + ", --warmup " + warmup + " and --batch " + batch
                    + " must not be negative (0 picks the per-model default for --iters and --batch)");
        }
        String wait = System.getenv("OMP_WAIT_POLICY");
        out.printf(Locale.ROOT, "stepslm bench model: %s; libtorch %s, device %s, OMP_WAIT_POLICY=%s, "
                        + "MKL AVX-512 switch %s%n", Machine.local().summary(),
                Engine.getEngine("PyTorch").getVersion(), dev.spec(),
                wait == null ? "(unset: libgomp default, brief spinning)" : wait,
                CpuThreads.mklAvx512Switch() ? "on" : "off");
        Map<String, String> torchEnvironment = noTorch ? null : torchEnvironment();
        out.printf(Locale.ROOT, "%-17s %8s %7s %-14s %3s %12s %12s %9s %9s%n", "model", "params", "BxT",
                "kernels", "thr", "fwd+bwd t/s", "step t/s", "ms/step", "cpu ms");
        Map<String, Double> torchBest = new LinkedHashMap<>();
        List<Result> results = new ArrayList<>();
        int before = CpuThreads.current();
        try {
            for (String name : models) {
                ModelConfig config = ModelConfig.preset(name, vocab).withDropout(0.0);
                int b = batch > 0 ? batch : name.startsWith("char-tiny") ? 12 : 8;
                int t = config.contextLength();
                int n = iters > 0 ? iters : name.startsWith("char-tiny") ? 60 : 6;
                for (KernelChoice choice : choices) {
                    for (Precision prec : precs) {
                        if (choice == KernelChoice.REFERENCE && prec != Precision.FP32) {
                            continue; // the reference kernels are FP32 only
                        }
                        try (ModelRuntime runtime = ModelRuntime.open(dev.resolve(), choice, prec, 1337)) {
                            runtime.kernelFallback().ifPresent(reason -> out.println("stepslm: " + reason));
                            String label = runtime.kernels().name() + (prec == Precision.FP32 ? "" : " " + prec.id());
                            for (int th : threads) {
                                new CpuThreads(th).apply();
                                Result r = measure(name, config, runtime, label, b, n, th);
                                results.add(r);
                                out.printf(Locale.ROOT, "%-17s %7.2fM %7s %-14s %3d %12.0f %12.0f %9.1f %9s%n",
                                        name, Diagnostics.parameterCount(config, true) / 1e6, b + "x" + t, label,
                                        th, r.fwdBwdTokS(),
                                        r.stepTokS(), r.msPerStep(), th == 1
                                                ? String.format(Locale.ROOT, "%.1f", r.cpuMsPerStep()) : "-");
                                out.flush();
                            }
                        }
                    }
                }
                if (torchEnvironment != null) {
                    torchBest.put(name, torchRuns(torchEnvironment, name, config, b, n));
                }
            }
        } finally {
            new CpuThreads(before).apply();
        }
        if (!torchBest.isEmpty()) {
            out.println();
            out.println("ratio = stepslm full-step tokens/s / PyTorch's best run (the same work per "
                    + "iteration: fwd+bwd, clip, AdamW); fwd+bwd alone in brackets:");
            for (Result r : results) {
                Double peer = torchBest.get(r.model());
                if (peer != null && peer > 0) {
                    out.printf(Locale.ROOT, "  %-17s %-14s %d thr: %.2fx (%.2fx)%n", r.model(), r.kernels(),
                            r.threads(), r.stepTokS() / peer, r.fwdBwdTokS() / peer);
                }
            }
        }
        out.flush();
        return 0;
    }

    /**
     * Times n calls of the trainer's step after the warmup, on random windows, with nanoGPT's CPU recipe's optimizer
     * settings (AdamW 0.9/0.99, weight decay 0.1, clip 1.0) at a constant learning rate of 1e-3.
     */
    Result measure(String name, ModelConfig config, ModelRuntime runtime, String label, int b, int n, int th)
            throws IOException {
        int t = config.contextLength();
        TrainConfig trainConfig = BenchTraining.config(b, t, runtime.precision(), warmup + n, "bench model");
        int[] tokens = BenchTraining.randomTokens(b, t, vocab);
        double fwdBwdSeconds = 0;
        double stepSeconds = 0;
        long cpuNanos = 0;
        try (LanguageModel model = LanguageModel.create(config, runtime);
             TrainStep step = new TrainStep(model, trainConfig);
             WindowSource windows = TokenWindows.random(tokens, t, LoaderState.initial(1))) {
            for (int i = 0; i < warmup + n; i++) {
                long c0 = Machine.threadCpuNanos();
                TrainStep.Outcome outcome = step.run(windows, i, 1e-3);
                long c1 = Machine.threadCpuNanos();
                if (i >= warmup) {
                    fwdBwdSeconds += outcome.forwardBackwardSeconds();
                    stepSeconds += outcome.seconds();
                    cpuNanos += c1 - c0;
                }
            }
        }
        double tokenCount = (double) n * b * t;
        return new Result(name, label, th, tokenCount / fwdBwdSeconds, tokenCount / stepSeconds,
                stepSeconds * 1000 / n, cpuNanos / 1e6 / n);
    }

    /** The environment of --torch-env, or null (with a note saying why) when the PyTorch peer cannot run. */
    private Map<String, String> torchEnvironment() throws IOException {
        if (anchors == null) {
            out.println("note: no PyTorch peer: pass --anchors DIR, the folder of torch_reference.py "
                    + "(../shared/anchors in this project; bench/model.sh passes it), or --no-torch");
            return null;
        }
        Path script = anchors.resolve("torch_reference.py");
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("--anchors " + anchors + " has no torch_reference.py: pass the folder "
                    + "that holds it, or --no-torch");
        }
        if (!Files.isRegularFile(torchEnv)) {
            out.println("note: no PyTorch peer: " + torchEnv + " is missing; run `bash "
                    + anchors.resolve("setup_torch_cpu.sh") + "` (or bench/model.sh, which does) and try again");
            return null;
        }
        return EnvFile.read(torchEnv, "--torch-env");
    }

    /** Runs PyTorch at every thread count and wait policy, prints each run, and returns the best tokens/s. */
    private double torchRuns(Map<String, String> environment, String name, ModelConfig config, int b, int n)
            throws IOException, InterruptedException {
        int t = config.contextLength();
        double best = 0;
        for (String policy : torchWaitPolicies) {
            for (int th : torchThreads) {
                Map<String, String> env = new LinkedHashMap<>(environment);
                if (!policy.equalsIgnoreCase("inherited")) {
                    env.put("OMP_WAIT_POLICY", policy.toUpperCase(Locale.ROOT));
                }
                List<String> command = new ArrayList<>(List.of("/usr/bin/python3",
                        anchors.resolve("torch_reference.py").toString(), "--threads", Integer.toString(th),
                        "--layers", Integer.toString(config.steps().get(0).depth()),
                        "--heads", Integer.toString(config.heads()), "--width", Integer.toString(config.width()),
                        "--context", Integer.toString(t), "--batch", Integer.toString(b),
                        "--iters", Integer.toString(n + 10), "--eval-interval", "1000000", "--eval-iters", "1",
                        "--warmup", "1", "--vocab", Integer.toString(vocab)));
                if (name.endsWith("-steps")) {
                    command.add("--steps");
                }
                PeerProcess.Result run = PeerProcess.run(command, env, TORCH_TIMEOUT);
                double tokS = trainTokensPerSecond(run, command);
                // CPU seconds of the whole python process (start-up and evaluation included) per iteration (it
                // runs n + 10): an upper bound that other processes do not inflate
                String cpu = String.format(Locale.ROOT, "<%.0f", run.cpu().toNanos() / 1e6 / (n + 10));
                String label = policy.equalsIgnoreCase("inherited") ? "pytorch" : "pytorch " + policy;
                out.printf(Locale.ROOT, "%-17s %8s %7s %-14s %3d %12s %12.0f %9.1f %9s%n", name, "", b + "x" + t,
                        label, th, "-", tokS, 1000.0 * b * t / tokS, cpu);
                out.flush();
                best = Math.max(best, tokS);
            }
        }
        return best;
    }

    /** The "train_tok_s" of torch_reference.py's summary line; IOException with its output when it failed. */
    static double trainTokensPerSecond(PeerProcess.Result run, List<String> command) throws IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"train_tok_s\":\\s*([0-9.]+)")
                .matcher(run.output());
        String value = null;
        while (m.find()) {
            value = m.group(1);
        }
        if (run.exitCode() != 0 || value == null) {
            throw new IOException("torch_reference.py failed (exit " + run.exitCode() + ", " + String.join(" ", command)
                    + "): fix the PyTorch setup or pass --no-torch; its output:\n" + run.output());
        }
        return Double.parseDouble(value);
    }
}
