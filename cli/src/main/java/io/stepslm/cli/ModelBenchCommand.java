package io.stepslm.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.stepslm.machine.CpuThreads;
import io.stepslm.machine.DeviceSetting;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.train.AdamW;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stepslm bench model}: training throughput of the model on this machine next to the PyTorch reference of the
 * same architecture run in the same invocation ({@code ../shared/anchors/torch_reference.py}). For each model,
 * kernel implementation and thread count it times {@code --iters} training iterations after {@code --warmup}, each
 * split into forward+backward and the rest of a training step (global-norm clip 1.0, AdamW, zero gradients), which
 * is exactly what torch_reference.py times per iteration; the ratio to PyTorch uses the full step.
 */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Forward+backward (and full training step) tokens/s for model presets, reference and fused",
                "kernels, 1 and 2 threads, next to PyTorch (torch_reference.py, its best thread count) as a ratio.",
                "Random tokens; dropout 0 in both; the PyTorch peer needs `bash ../shared/anchors/setup_torch_cpu.sh`."},
        footer = {"", "Examples:",
                "  stepslm bench model",
                "  stepslm bench model --models char-tiny --kernels fused --threads 1 --iters 100",
                "  stepslm bench model --models char-small-steps --batch 16 --no-torch",
                "  bench/model.sh   (runs the PyTorch setup first when needed)"})
public final class ModelBenchCommand implements Callable<Integer> {

    @Option(names = "--models", split = ",", description = "Presets (default: ${DEFAULT-VALUE}).",
            defaultValue = "char-tiny,char-tiny-steps,char-small,char-small-steps")
    List<String> models;

    @Option(names = "--kernels", split = ",", description = "fused and/or reference (default: ${DEFAULT-VALUE}).",
            defaultValue = "fused,reference")
    List<String> kernels;

    @Option(names = "--threads", split = ",", description = "libtorch intra-op thread counts (default: ${DEFAULT-VALUE}).",
            defaultValue = "1,2")
    List<Integer> threads;

    @Option(names = "--precision", split = ",", description = "Compute precisions of matmuls/attention: fp32, fp16, "
            + "bf16; reduced ones run with the fused kernels only (default: ${DEFAULT-VALUE}).", defaultValue = "fp32,bf16")
    List<String> precision;

    @Option(names = "--device", description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).", defaultValue = "cpu")
    String device;

    @Option(names = "--batch", description = "Batch size; 0 = 12 for char-tiny (nanoGPT's CPU recipe), 8 otherwise.",
            defaultValue = "0")
    int batch;

    @Option(names = "--iters", description = "Timed iterations; 0 = 60 for char-tiny, 6 for larger models.",
            defaultValue = "0")
    int iters;

    @Option(names = "--warmup", description = "Untimed iterations first (default: ${DEFAULT-VALUE}).", defaultValue = "5")
    int warmup;

    @Option(names = "--vocab", description = "Vocabulary size, character level (default: ${DEFAULT-VALUE}).",
            defaultValue = "65")
    int vocab;

    @Option(names = "--anchors", description = "Folder of torch_reference.py and setup_torch_cpu.sh "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "../shared/anchors")
    Path anchors;

    @Option(names = "--torch-env", description = "env.sh written by setup_torch_cpu.sh (default: ${DEFAULT-VALUE}).",
            defaultValue = "/tmp/anchors/torch/env.sh")
    Path torchEnv;

    @Option(names = "--torch-threads", split = ",", description = "PyTorch thread counts to try; the best is "
            + "the peer (default: ${DEFAULT-VALUE}).", defaultValue = "1,2")
    List<Integer> torchThreads;

    @Option(names = "--torch-wait-policies", split = ",", description = "OpenMP wait policies to run PyTorch under: "
            + "inherited (this process's) and/or PASSIVE, ACTIVE; the best run is the peer (default: ${DEFAULT-VALUE}). "
            + "Debian's PyTorch also runs OpenBLAS's own threads, one per core, whatever --torch-threads says.",
            defaultValue = "inherited,PASSIVE")
    List<String> torchWaitPolicies;

    @Option(names = "--no-torch", description = "Skip the PyTorch peer.")
    boolean noTorch;

    /** One measured configuration. */
    record Result(String model, String kernels, int threads, double fwdBwdTokS, double stepTokS, double msPerStep,
                  double cpuMsPerStep) {
    }

    @Override
    public Integer call() throws Exception {
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
        boolean torch = !noTorch && torchAvailable();
        String machine = machine();
        String wait = System.getenv("OMP_WAIT_POLICY");
        System.out.printf(Locale.ROOT, "stepslm bench model: %s, libtorch %s, device %s, load average %s, "
                        + "OMP_WAIT_POLICY=%s, MKL AVX-512 switch %s%n", machine, Engine.getEngine("PyTorch").getVersion(),
                dev.spec(), loadAverage(), wait == null ? "(unset: libgomp default, brief spinning)" : wait,
                CpuThreads.mklAvx512Switch() ? "on" : "off");
        System.out.printf(Locale.ROOT, "%-17s %8s %7s %-14s %3s %12s %12s %9s %9s%n", "model", "params", "BxT",
                "kernels", "thr", "fwd+bwd t/s", "step t/s", "ms/step", "cpu ms");
        Map<String, Double> torchBest = new LinkedHashMap<>();
        List<Result> results = new ArrayList<>();
        int before = CpuThreads.current();
        try (NDManager root = NDManager.newBaseManager(dev.resolve())) {
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
                            runtime.kernelFallback().ifPresent(reason -> System.out.println("stepslm: " + reason));
                            String label = runtime.kernels().name() + (prec == Precision.FP32 ? "" : " " + prec.id());
                            for (int th : threads) {
                                new CpuThreads(th).apply();
                                Result r = measure(root, name, config, runtime, label, b, t, n, th);
                                results.add(r);
                                System.out.printf(Locale.ROOT, "%-17s %7.2fM %7s %-14s %3d %12.0f %12.0f %9.1f %9s%n",
                                        name, paramsOf(config) / 1e6, b + "x" + t, label, th, r.fwdBwdTokS(),
                                        r.stepTokS(), r.msPerStep(), th == 1
                                                ? String.format(Locale.ROOT, "%.1f", r.cpuMsPerStep()) : "-");
                            }
                        }
                    }
                }
                if (torch) {
                    double best = 0;
                    for (String policy : torchWaitPolicies) {
                        for (int th : torchThreads) {
                            double[] run = runTorch(config, name.endsWith("-steps"), b, t, n, th, policy);
                            double tokS = run[0];
                            // CPU seconds of the whole python process (start-up and evaluation included) per
                            // iteration (it runs n + 10): an upper bound that other processes do not inflate
                            String cpu = String.format(Locale.ROOT, "<%.0f", run[1] * 1000 / (n + 10));
                            String label = policy.equalsIgnoreCase("inherited") ? "pytorch" : "pytorch " + policy;
                            System.out.printf(Locale.ROOT, "%-17s %8s %7s %-14s %3d %12s %12.0f %9.1f %9s%n", name,
                                    "", b + "x" + t, label, th, "-", tokS, 1000.0 * b * t / tokS, cpu);
                            best = Math.max(best, tokS);
                        }
                    }
                    torchBest.put(name, best);
                }
            }
        } finally {
            new CpuThreads(before).apply();
        }
        if (!torchBest.isEmpty()) {
            System.out.println();
            System.out.println("ratio = stepslm full-step tokens/s / PyTorch's best run (the same work per "
                    + "iteration: fwd+bwd, clip, AdamW); fwd+bwd alone in brackets:");
            for (Result r : results) {
                Double peer = torchBest.get(r.model());
                if (peer != null && peer > 0) {
                    System.out.printf(Locale.ROOT, "  %-17s %-14s %d thr: %.2fx (%.2fx)%n", r.model(), r.kernels(),
                            r.threads(), r.stepTokS() / peer, r.fwdBwdTokS() / peer);
                }
            }
        }
        return 0;
    }

    static long paramsOf(ModelConfig c) {
        return LanguageModel.parameterShapes(c).values().stream().mapToLong(Shape::size).sum();
    }

    /** Times n training iterations after the warmup; every iteration has its own sub-manager. */
    Result measure(NDManager root, String name, ModelConfig config, ModelRuntime runtime, String label, int b, int t,
                   int n, int th) {
        SplittableRandom random = new SplittableRandom(1);
        ThreadMXBean cpuClock = ManagementFactory.getThreadMXBean();
        long fwdBwdNanos = 0;
        long stepNanos = 0;
        long cpuNanos = 0;
        try (LanguageModel model = LanguageModel.create(config, runtime);
             AdamW adamw = new AdamW(runtime.kernels(), new ArrayList<>(model.parameters().values()), 0.9, 0.99, 1e-8, 0.1)) {
            for (int i = 0; i < warmup + n; i++) {
                try (NDManager step = root.newSubManager()) {
                    long c0 = cpuClock.getCurrentThreadCpuTime();
                    long t0 = System.nanoTime();
                    NDArray x = step.create(tokens(random, b * t), new Shape(b, t)); // (B, T)
                    NDArray y = step.create(tokens(random, b * t), new Shape(b, t)); // (B, T)
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(model.loss(x, y, true));
                    }
                    long t1 = System.nanoTime();
                    List<NDArray> grads = new ArrayList<>(model.gradients(step).values());
                    runtime.kernels().clipGradNorm(grads, 1.0);
                    adamw.step(grads, 1e-3);
                    model.zeroGradients();
                    long t2 = System.nanoTime();
                    long c2 = cpuClock.getCurrentThreadCpuTime();
                    if (i >= warmup) {
                        fwdBwdNanos += t1 - t0;
                        stepNanos += t2 - t0;
                        cpuNanos += c2 - c0;
                    }
                }
            }
        }
        double tokens = (double) n * b * t;
        return new Result(name, label, th, tokens / (fwdBwdNanos / 1e9), tokens / (stepNanos / 1e9),
                stepNanos / 1e6 / n, cpuNanos / 1e6 / n);
    }

    private int[] tokens(SplittableRandom r, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = r.nextInt(vocab);
        }
        return out;
    }

    private boolean torchAvailable() {
        Path script = anchors.resolve("torch_reference.py");
        if (!Files.isRegularFile(script)) {
            System.out.println("note: no PyTorch peer: " + script + " not found (pass --anchors DIR)");
            return false;
        }
        if (!Files.isRegularFile(torchEnv)) {
            System.out.println("note: no PyTorch peer: " + torchEnv + " missing; run `bash " + anchors.resolve(
                    "setup_torch_cpu.sh") + "` (or bench/model.sh, which does) and try again");
            return false;
        }
        return true;
    }

    /**
     * Runs torch_reference.py on random tokens for n timed iterations (it skips 10 first) and returns its training
     * tokens/s and the CPU seconds (user + system) the python process used, read from bash's {@code times}.
     */
    double[] runTorch(ModelConfig c, boolean steps, int b, int t, int n, int th, String waitPolicy)
            throws IOException, InterruptedException {
        String policy = waitPolicy.equalsIgnoreCase("inherited") ? ""
                : "export OMP_WAIT_POLICY=" + waitPolicy.toUpperCase(Locale.ROOT) + " && ";
        String cmd = policy + "source '" + torchEnv + "' && /usr/bin/python3 '" + anchors.resolve("torch_reference.py")
                + "' --threads " + th + " --layers " + plainDepth(c) + " --heads " + c.heads() + " --width " + c.width() + " --context " + t
                + " --batch " + b + " --iters " + (n + 10) + " --eval-interval 1000000 --eval-iters 1"
                + " --warmup 1 --vocab " + vocab + (steps ? " --steps" : "") + "; s=$?; times; exit $s";
        Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
        String summary = null;
        StringBuilder all = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                all.append(line).append('\n');
                if (line.contains("\"train_tok_s\"")) {
                    summary = line;
                }
            }
        }
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0 || summary == null) {
            throw new IOException("torch_reference.py failed (" + cmd + "):\n" + all);
        }
        String v = summary.replaceAll(".*\"train_tok_s\":\\s*([0-9.]+).*", "$1");
        // `times` prints the shell's user/system time, then its children's: "0m1.234s 0m0.056s"
        String[] lines = all.toString().strip().split("\n");
        double cpu = 0;
        for (String part : lines[lines.length - 1].trim().split("\\s+")) {
            String[] ms = part.replace("s", "").split("m");
            cpu += Double.parseDouble(ms[0]) * 60 + Double.parseDouble(ms[1]);
        }
        return new double[] {Double.parseDouble(v), cpu};
    }

    /** Depth D of the plain model: its only step, or the first step of the 3-step recipe (C/2 x D, ...). */
    static int plainDepth(ModelConfig c) {
        return c.steps().get(0).depth();
    }

    /** The 1-minute load average: other processes competing for the cores make every figure lower. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // not Linux: the processor count is still printed
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " logical CPUs";
    }
}
