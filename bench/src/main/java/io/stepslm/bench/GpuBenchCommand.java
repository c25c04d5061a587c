package io.stepslm.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.WindowSource;
import io.stepslm.machine.DeviceSetting;
import io.stepslm.machine.GpuFacts;
import io.stepslm.machine.NvidiaSmi;
import io.stepslm.model.Diagnostics;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.KvCache;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.TrainStep;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stepslm bench gpu}: the one command that proves a GPU setup works (issue 14, docs/gpu.md). It trains
 * gpt2-small (124M, context 1024) for a few steps in each precision with the fused kernels (SDPA attention; FP16
 * with dynamic loss scaling, BF16 through the archive's differentiable casts, FP32 master weights in both) through
 * the trainer's own {@link TrainStep}, then generates tokens with the KV cache, and prints tokens/s, MFU against the
 * device's peak, peak device memory and the loaded libtorch next to PyTorch's figures on one H100. Any failure or
 * non-finite loss makes the exit status 1; so does a machine without a usable GPU, which it names.
 */
@Command(
        name = "gpu",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"GPU smoke test and speed: training steps of gpt2-small (124M, context 1024) in FP32, FP16 "
                + "(loss scaling) and BF16 with the fused kernels (SDPA), then a 256-token generation; tokens/s, MFU "
                + "against the device's peak, peak memory and the loaded libtorch, next to PyTorch 2.11 eager on "
                + "one H100 (batch 16): FP32 42k tokens/s, FP16 manual attention 133k, FP16 SDPA 335k, "
                + "torch.compile 432k.",
                "Exit status 1 when a precision fails or gives a non-finite loss, or when no GPU is usable."},
        footer = {"", "Examples:",
                "  STEPSLM_LIBTORCH=cu128 ./stepslm bench gpu",
                "  ./stepslm bench gpu --device gpu:1 --batch 8        (a GPU with less memory)",
                "  ./stepslm bench gpu --device cpu --model char-tiny --steps 3 --gen-tokens 16"
                        + "   (the same path on a CPU)"})
public final class GpuBenchCommand implements Callable<Integer> {

    /** PyTorch 2.11 eager, one H100, GPT-2 124M, T=1024, B=16 (issue 14): the eager SDPA figure for FP16/BF16. */
    static final Map<Precision, Double> H100_PEER = Map.of(Precision.FP32, 42e3, Precision.FP16, 335e3,
            Precision.BF16, 335e3);

    @Option(names = "--device", description = "gpu, gpu:N, or cpu to run the same path on the CPU "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "gpu")
    String device;

    @Option(names = "--model", description = "Model preset (default: ${DEFAULT-VALUE}).", defaultValue = "gpt2-small")
    String model;

    @Option(names = "--vocab", description = "Vocabulary size, random tokens (default: ${DEFAULT-VALUE}, GPT-2's).",
            defaultValue = "50257")
    int vocab;

    @Option(names = "--batch", description = "Windows per step (default: ${DEFAULT-VALUE}, as the PyTorch figures).",
            defaultValue = "16")
    int batch;

    @Option(names = "--steps", description = "Timed training steps per precision (default: ${DEFAULT-VALUE}).",
            defaultValue = "20")
    int steps;

    @Option(names = "--warmup", description = "Untimed steps first (default: ${DEFAULT-VALUE}).", defaultValue = "3")
    int warmup;

    @Option(names = "--precisions", split = ",", description = "fp32, fp16, bf16 (default: ${DEFAULT-VALUE}).",
            defaultValue = "fp32,fp16,bf16")
    List<String> precisions;

    @Option(names = "--gen-tokens", description = "Tokens generated after the prompt (default: ${DEFAULT-VALUE}).",
            defaultValue = "256")
    int genTokens;

    @Option(names = "--gen-precision", description = "Precision of the generation (default: ${DEFAULT-VALUE}).",
            defaultValue = "fp16")
    String genPrecision;

    @Option(names = "--peak-tflops", split = ",", paramLabel = "FP32,HALF", description = "The device's dense peak "
            + "TFLOP/s for FP32 and for FP16/BF16, for MFU (default: known for H100, A100, L4 by name).")
    List<Double> peakTflops;

    @Spec
    CommandSpec spec;

    /** One precision's training figures. */
    record Row(Precision precision, double tokensPerSec, double firstLoss, double lastLoss, int skipped,
               long peakMemory) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DeviceSetting dev = new DeviceSetting(device);
        List<Precision> precs = precisions.stream().map(Precision::parse).toList();
        Precision genPrec = Precision.parse(genPrecision);
        ModelConfig config = ModelConfig.preset(model, vocab).withDropout(0.0);
        if (batch < 1 || steps < 1 || warmup < 0 || genTokens < 1 || genTokens >= config.contextLength()) {
            throw new IllegalArgumentException("--batch " + batch + " and --steps " + steps + " must be at least 1, "
                    + "--warmup " + warmup + " at least 0, --gen-tokens " + genTokens + " from 1 to "
                    + (config.contextLength() - 1) + " (the context length less the prompt)");
        }
        if (peakTflops != null && (peakTflops.size() != 2 || peakTflops.stream().anyMatch(p -> !(p > 0)))) {
            throw new IllegalArgumentException("--peak-tflops " + peakTflops + " needs two positive numbers: the "
                    + "FP32 and the FP16/BF16 dense peak, e.g. --peak-tflops 67,989 for an H100 SXM");
        }
        Device d;
        String gpuName = "";
        if (dev.isGpu()) {
            GpuFacts facts = GpuFacts.probe();
            String problem = facts.problem(dev.gpuIndex());
            if (problem != null) {
                err.println("stepslm bench gpu: no GPU is usable: " + problem);
                err.flush();
                return 1;
            }
            d = Device.gpu(dev.gpuIndex());
            facts.report(List.of(dev.gpuIndex()), String.join(",", precisions), "fused").forEach(out::println);
            gpuName = facts.driverGpus().stream().filter(g -> g.index() == dev.gpuIndex())
                    .map(NvidiaSmi.Gpu::name).findFirst().orElse("");
        } else {
            d = Device.cpu();
            Engine.getEngine("PyTorch"); // loads libtorch, which LibUtils then describes
            out.println("device cpu (the GPU path on the CPU); libtorch " + LibUtils.getVersion() + " at "
                    + LibUtils.getLibtorchPath());
        }
        double[] peak = peakTflops != null ? new double[] {peakTflops.get(0), peakTflops.get(1)} : peakOf(gpuName);
        int t = config.contextLength();
        out.printf(Locale.ROOT, "%s, %.1fM parameters, batch %d x context %d, %d timed steps after %d warmup, "
                        + "random tokens over %d ids%n", model, Diagnostics.parameterCount(config, true) / 1e6, batch,
                t, steps, warmup, vocab);
        out.printf(Locale.ROOT, "%-6s %12s %7s %10s %10s %8s %11s  %s%n", "prec", "tokens/s", "MFU", "loss0",
                "lossN", "skipped", "peak MiB", "PyTorch eager on one H100");
        out.flush();
        boolean failed = false;
        for (Precision p : precs) {
            try {
                Row r = train(config, d, p);
                double pk = p == Precision.FP32 ? peak[0] : peak[1];
                double mfu = Diagnostics.flopsPerToken(config, t) * r.tokensPerSec() / (pk * 1e12);
                double peer = H100_PEER.get(p);
                out.printf(Locale.ROOT, "%-6s %12.0f %7s %10.4f %10.4f %8d %11s  %.0fk (%.2fx)%n", p.id(),
                        r.tokensPerSec(), pk > 0 ? String.format(Locale.ROOT, "%.1f%%", 100 * mfu) : "-",
                        r.firstLoss(), r.lastLoss(), r.skipped(),
                        r.peakMemory() > 0 ? String.format(Locale.ROOT, "%,d", r.peakMemory() >> 20) : "-",
                        peer / 1e3, r.tokensPerSec() / peer);
                String bad = verdict(r, steps);
                if (bad != null) {
                    out.println("  FAILED " + p.id() + ": " + bad);
                    failed = true;
                }
            } catch (RuntimeException e) {
                out.println("  FAILED " + p.id() + ": " + e.getMessage());
                failed = true;
            }
            out.flush();
        }
        try {
            double tokS = generate(config, d, genPrec);
            out.printf(Locale.ROOT, "generation (%s, KV cache, greedy, batch 1): %d tokens at %.1f tokens/s%n",
                    genPrec.id(), genTokens, tokS);
        } catch (RuntimeException e) {
            out.println("  FAILED generation (" + genPrec.id() + "): " + e.getMessage());
            failed = true;
        }
        if (peak[0] <= 0) {
            out.println("MFU: this device's peak is not known here; pass --peak-tflops FP32,HALF (dense TFLOP/s)");
        }
        out.println(failed ? "stepslm bench gpu: FAILED (see above)" : "stepslm bench gpu: all precisions passed");
        out.flush();
        return failed ? 1 : 0;
    }

    /**
     * Why a precision's run counts as failed, or null: a non-finite loss, every timed step skipped (gradients
     * never finite), or a loss that did not move at all.
     */
    static String verdict(Row r, int timedSteps) {
        if (!Double.isFinite(r.firstLoss()) || !Double.isFinite(r.lastLoss())) {
            return "non-finite loss (" + r.firstLoss() + " then " + r.lastLoss() + ")";
        }
        if (r.skipped() >= timedSteps) {
            return "all " + timedSteps + " timed steps were skipped: the gradients were never finite";
        }
        if (!(r.tokensPerSec() > 0)) {
            return "no throughput measured";
        }
        return null;
    }

    /** Trains a fresh model for warmup + steps steps in {@code p}; timed over the last {@code steps}. */
    Row train(ModelConfig config, Device d, Precision p) {
        int t = config.contextLength();
        TrainConfig trainConfig = BenchTraining.config(batch, t, p, warmup + steps, "bench gpu");
        int[] tokens = BenchTraining.randomTokens(batch, t, vocab);
        double seconds = 0;
        double first = Double.NaN;
        double last = Double.NaN;
        int skipped = 0;
        long peakMemory = 0;
        try (ModelRuntime runtime = ModelRuntime.open(d, KernelChoice.FUSED, p, 1337)) {
            runtime.kernelFallback().ifPresent(reason -> {
                throw new IllegalStateException("the fused kernels did not load: " + reason);
            });
            try (LanguageModel lm = LanguageModel.create(config, runtime);
                 TrainStep step = new TrainStep(lm, trainConfig);
                 WindowSource windows = TokenWindows.random(tokens, t, LoaderState.initial(1))) {
                for (int i = 0; i < warmup + steps; i++) {
                    TrainStep.Outcome outcome = step.run(windows, i, 6e-4); // ends with the norm read back: synced
                    if (i == 0) {
                        first = outcome.loss();
                    }
                    last = outcome.loss();
                    if (i >= warmup) {
                        seconds += outcome.seconds();
                        skipped += outcome.applied() ? 0 : 1;
                    }
                    if (d.isGpu()) {
                        peakMemory = Math.max(peakMemory, CudaUtils.getGpuMemory(d).getUsed());
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new Row(p, (double) steps * batch * t / seconds, first, last, skipped, peakMemory);
    }

    /** Greedy decoding of genTokens tokens after a one-token prompt with the KV cache; tokens per second. */
    double generate(ModelConfig config, Device d, Precision p) {
        try (ModelRuntime runtime = ModelRuntime.open(d, KernelChoice.FUSED, p, 1337);
             LanguageModel lm = LanguageModel.create(config, runtime);
             NDManager m = NDManager.newBaseManager(d);
             KvCache cache = lm.newCache(1)) {
            int next = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < genTokens; i++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray logits = lm.step(s.create(new int[] {next}, new Shape(1, 1)), cache); // (1, 1, V)
                    next = (int) logits.argMax(-1).toType(ai.djl.ndarray.types.DataType.INT64, false)
                            .toLongArray()[0]; // the host read that real decoding needs per token
                }
            }
            return genTokens / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Dense peak TFLOP/s {FP32 without TF32 (libtorch's default), FP16/BF16 tensor cores} for GPUs known by their
     * nvidia-smi name (NVIDIA's data sheets); {0, 0} when unknown.
     */
    static double[] peakOf(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.contains("H100") && (n.contains("SXM") || n.contains("HBM3"))) {
            return new double[] {67, 989};
        }
        if (n.contains("H100") && n.contains("PCIE")) {
            return new double[] {51, 756};
        }
        if (n.contains("A100")) {
            return new double[] {19.5, 312};
        }
        if (n.matches(".*\\bL4\\b.*")) {
            return new double[] {30.3, 121};
        }
        return new double[] {0, 0};
    }
}
