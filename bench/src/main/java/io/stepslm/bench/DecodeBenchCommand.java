package io.stepslm.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stepslm.machine.CpuThreads;
import io.stepslm.machine.DeviceSetting;
import io.stepslm.machine.Machine;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.Kernels;
import io.stepslm.model.KvCache;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stepslm bench decode}: one-token decoding through the KV cache, early and late in the context, next to the
 * peer without a cache (a full forward pass over the whole prefix per token, as nanoGPT's {@code generate} does)
 * measured in the same run. A cache whose cost does not depend on the position shows a late/early ratio near 1;
 * recomputation grows with the prefix.
 */
@Command(
        name = "decode",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"KV-cache decoding ms/token early and late in the context, next to full recomputation of the",
                "prefix per token (no cache) in the same run. Random weights and tokens; batch 1."},
        footer = {"", "Examples:",
                "  stepslm bench decode",
                "  stepslm bench decode --models gpt2-small --vocab 50257 --threads 2 --tokens 8"})
public final class DecodeBenchCommand implements Callable<Integer> {

    @Option(names = "--models", split = ",", description = "Presets (default: ${DEFAULT-VALUE}).",
            defaultValue = "char-tiny,char-small,char-small-steps")
    List<String> models;

    @Option(names = "--kernels", description = "fused or reference (default: ${DEFAULT-VALUE}).",
            defaultValue = "fused")
    String kernels;

    @Option(names = "--threads", description = "libtorch intra-op threads (default: ${DEFAULT-VALUE}).",
            defaultValue = "1")
    int threads;

    @Option(names = "--device", description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).", defaultValue = "cpu")
    String device;

    @Option(names = "--tokens", description = "Timed tokens at each of the two positions (default: ${DEFAULT-VALUE}).",
            defaultValue = "16")
    int tokens;

    @Option(names = "--vocab", description = "Vocabulary size (default: ${DEFAULT-VALUE}).", defaultValue = "65")
    int vocab;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (tokens <= 0) {
            throw new IllegalArgumentException("--tokens " + tokens + " must be positive, e.g. 16");
        }
        for (String m : models) {
            ModelConfig.preset(m, vocab); // validates names before any long run
        }
        DeviceSetting dev = new DeviceSetting(device);
        int before = CpuThreads.current();
        new CpuThreads(threads).apply();
        out.printf(Locale.ROOT, "stepslm bench decode: %s; libtorch %s, device %s, %d thread(s)%n",
                Machine.local().summary(), Engine.getEngine("PyTorch").getVersion(), dev.spec(), threads);
        out.printf(Locale.ROOT, "%-17s %5s %-9s %11s %11s %10s %13s %13s %9s%n", "model", "ctx", "kernels",
                "kv early", "kv late", "late/early", "recomp early", "recomp late", "kv gain");
        try (NDManager root = NDManager.newBaseManager(dev.resolve());
             ModelRuntime runtime = ModelRuntime.open(dev.resolve(), KernelChoice.parse(kernels), Precision.FP32,
                     1337)) {
            runtime.kernelFallback().ifPresent(reason -> out.println("stepslm: " + reason));
            Kernels k = runtime.kernels();
            for (String name : models) {
                ModelConfig config = ModelConfig.preset(name, vocab).withDropout(0.0);
                int ctx = config.contextLength();
                if (ctx < 4 * tokens) {
                    throw new IllegalArgumentException("--tokens " + tokens + " is too many for the context " + ctx
                            + " of " + name + ": use at most " + ctx / 4);
                }
                int early = ctx / 4;
                int late = ctx - tokens;
                try (LanguageModel model = LanguageModel.create(config, runtime)) {
                    int[] seq = new SplittableRandom(1).ints(ctx, 0, vocab).toArray();
                    double[] kv = cached(root, model, seq, early, late);
                    double recEarly = recompute(root, model, seq, early);
                    double recLate = recompute(root, model, seq, late);
                    out.printf(Locale.ROOT, "%-17s %5d %-9s %8.2f ms %8.2f ms %10.2f %10.2f ms %10.2f ms %8.1fx%n",
                            name, ctx, k.name(), kv[0], kv[1], kv[1] / kv[0], recEarly, recLate, recLate / kv[1]);
                    out.flush();
                }
            }
        } finally {
            new CpuThreads(before).apply();
        }
        out.println((threads == 1 ? "thread CPU " : "wall ") + "ms/token: mean over " + tokens + " tokens starting at "
                + "1/4 of the context (early) and at context - " + tokens + " (late); "
                + "kv gain = recompute late / kv late");
        out.flush();
        return 0;
    }

    /** Mean ms per one-token cached step over the windows starting at {@code early} and at {@code late}. */
    private double[] cached(NDManager root, LanguageModel model, int[] seq, int early, int late) {
        double[] out = new double[2];
        try (KvCache cache = model.newCache(1)) {
            for (int round = 0; round < 2; round++) { // round 0 warms up
                cache.reset();
                long earlyNanos = 0;
                long lateNanos = 0;
                for (int p = 0; p < late + tokens; p++) {
                    try (NDManager step = root.newSubManager()) {
                        long t0 = now();
                        NDArray logits = model.step(step.create(new int[] {seq[p]}, new Shape(1, 1)), cache);
                        logits.toFloatArray(); // wait for the result, as a sampler does
                        long dt = now() - t0;
                        if (p >= early && p < early + tokens) {
                            earlyNanos += dt;
                        } else if (p >= late) {
                            lateNanos += dt;
                        }
                    }
                }
                out[0] = earlyNanos / 1e6 / tokens;
                out[1] = lateNanos / 1e6 / tokens;
            }
        }
        return out;
    }

    /** Mean ms per token when the whole prefix of length p .. p + tokens - 1 is run again for each token. */
    private double recompute(NDManager root, LanguageModel model, int[] seq, int from) {
        long nanos = 0;
        for (int i = -1; i < tokens; i++) { // i = -1 warms up
            int len = from + Math.max(i, 0) + 1;
            int[] prefix = java.util.Arrays.copyOf(seq, len);
            try (NDManager step = root.newSubManager()) {
                long t0 = now();
                NDArray logits = model.logits(step.create(prefix, new Shape(1, len)), false);
                logits.get("0, -1").toFloatArray();
                if (i >= 0) {
                    nanos += now() - t0;
                }
            }
        }
        return nanos / 1e6 / tokens;
    }

    /**
     * With one libtorch thread every op runs on the calling thread, so its CPU time measures the work and is robust
     * to other jobs sharing the CPU; with more threads only wall time covers the work.
     */
    private long now() {
        return threads == 1 ? Machine.threadCpuNanos() : System.nanoTime();
    }
}
