package io.stepslm.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.stepslm.generate.Generation;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.Generator;
import io.stepslm.generate.SamplingConfig;
import io.stepslm.machine.CpuThreads;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import io.stepslm.machine.Machine;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stepslm bench generate}: generation speed of random-weight models of one size with the vocabulary of a
 * {@code tokenizer.json}, next to llama.cpp (node-llama-cpp) timing the GGUF of the same LLaMA-architecture network
 * in the same invocation. Sampling matches the peer's script: temperature 0.8 with node-llama-cpp's defaults top-k 40
 * and top-p 0.95, 256 new tokens after "ROMEO:".
 */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Generation tokens/s (prompt and generation, per-token ms early and late in the context) of",
                "random-weight models with a tokenizer's vocabulary, next to llama.cpp on the GGUF of the same",
                "LLaMA-architecture network (bench/generate.sh builds it) in the same run."},
        footer = {"", "Examples:",
                "  bench/generate.sh",
                "  stepslm bench generate --tokenizer tok.json --peer-gguf llama.gguf --peer-dir /tmp/peer",
                "  stepslm bench generate --tokenizer tok.json --models llama --threads 1 --tokens 64"})
public final class GenerateBenchCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json whose vocabulary the models use (the GGUF's too).")
    Path tokenizer;

    @Option(names = "--models", split = ",", description = "llama (rotary, RMSNorm, SwiGLU: the peer's network), "
            + "gpt2 (learned positions, LayerNorm, GELU), steps (gpt2 with the 3-step StepsNet recipe) "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "llama,gpt2,steps")
    List<String> models;

    @Option(names = "--width", description = "Width (default: ${DEFAULT-VALUE}).", defaultValue = "384")
    int width;

    @Option(names = "--blocks", description = "Blocks (default: ${DEFAULT-VALUE}).", defaultValue = "6")
    int blocks;

    @Option(names = "--heads", description = "Heads (default: ${DEFAULT-VALUE}).", defaultValue = "6")
    int heads;

    @Option(names = "--context", description = "Context length (default: ${DEFAULT-VALUE}).", defaultValue = "256")
    int context;

    @Option(names = "--threads", split = ",", description = "libtorch thread counts (default: ${DEFAULT-VALUE}).",
            defaultValue = "1,2")
    List<Integer> threads;

    @Option(names = "--tokens", description = "New tokens per run (default: ${DEFAULT-VALUE}).", defaultValue = "256")
    int tokens;

    @Option(names = "--kernels", description = "fused or reference (default: ${DEFAULT-VALUE}).",
            defaultValue = "fused")
    String kernels;

    @Option(names = "--peer-gguf", paramLabel = "FILE", description = "The GGUF of make_llama_gguf.py for llama.cpp "
            + "(default: no peer).")
    Path peerGguf;

    @Option(names = "--peer-dir", paramLabel = "DIR", description = "Folder with node_modules/node-llama-cpp and "
            + "llamacpp_gen.mjs (default: ${DEFAULT-VALUE}).", defaultValue = "/tmp/stepslm-llamacpp")
    Path peerDir;

    @Spec
    CommandSpec spec;

    private static final String PROMPT = "ROMEO:";
    /** bench/llamacpp_gen.mjs's line: tokens, wall tok/s and the process CPU seconds of the timed generation. */
    private static final Pattern PEER_LINE =
            Pattern.compile("([0-9]+) tokens in .* = ([0-9.]+) tok/s .*cpu ([0-9.]+) s");

    @Override
    public Integer call() throws Exception {
        if (tokens < 2) {
            throw new IllegalArgumentException("--tokens " + tokens + " must be at least 2, e.g. 256");
        }
        if (!Files.isRegularFile(tokenizer)) {
            throw new IOException("--tokenizer " + tokenizer + " does not exist: train one with `stepslm tokenizer "
                    + "train` or run bench/generate.sh");
        }
        if (peerGguf != null && !Files.isRegularFile(peerDir.resolve("llamacpp_gen.mjs"))) {
            throw new IOException("--peer-dir " + peerDir + " has no llamacpp_gen.mjs: copy "
                    + "bench/llamacpp_gen.mjs there and `npm i -E node-llama-cpp@3.21.1` in it (bench/generate.sh "
                    + "does both)");
        }
        List<ModelConfig> configs = new ArrayList<>();
        Tokenizer tok = TokenizerFiles.load(tokenizer);
        for (String m : models) {
            configs.add(config(m.trim(), tok.vocabSize()));
        }
        int[] prompt = tok.encode(PROMPT);
        GenerationConfig gen = GenerationConfig.of(tokens,
                SamplingConfig.defaults().withFilters(0.8, 40, 0.95, 0).withSeed(1));
        int before = CpuThreads.current();
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "stepslm bench generate: %s; libtorch %s, %s kernels, vocabulary %d (%s), "
                        + "%d new tokens after \"%s\" (%d ids), temperature 0.8, top-k 40, top-p 0.95; MKL AVX-512 "
                        + "switch %s%n", Machine.local().summary(), Engine.getEngine("PyTorch").getVersion(), kernels,
                tok.vocabSize(), tokenizer, tokens, PROMPT, prompt.length,
                CpuThreads.mklAvx512Switch() ? "on" : "off");
        out.printf(Locale.ROOT, "%-34s %7s %12s %12s %14s %10s %10s %10s%n", "system", "threads", "prompt tok/s",
                "gen tok/s", "gen tok/CPU-s", "early ms", "late ms", "late/early");
        List<String> summary = new ArrayList<>();
        try {
            for (int t : threads) {
                double peer = -1;
                double peerCpu = -1;
                if (peerGguf != null) {
                    double[] p = peer(t);
                    peer = p[0];
                    peerCpu = p[1];
                    out.printf(Locale.ROOT, "%-34s %7d %12s %12.1f %14s%n", "llama.cpp (node-llama-cpp 3.21.1)", t,
                            "-", peer, t == 1 ? String.format(Locale.ROOT, "%.1f", peerCpu) : "-");
                }
                for (int i = 0; i < configs.size(); i++) {
                    new CpuThreads(t).apply();
                    double[] r = run(configs.get(i), prompt, gen);
                    out.printf(Locale.ROOT, "%-34s %7d %12.1f %12.1f %14s %10.2f %10.2f %10.2f%n",
                            "stepslm " + models.get(i).trim(), t, r[0], r[1],
                            t == 1 ? String.format(Locale.ROOT, "%.1f", r[4]) : "-", r[2], r[3], r[3] / r[2]);
                    out.flush();
                    if (peer > 0 && models.get(i).trim().equals("llama")) {
                        summary.add(String.format(Locale.ROOT, "%d thread(s): stepslm llama %.1f tok/s vs llama.cpp "
                                + "%.1f tok/s = %.2fx (wall)", t, r[1], peer, r[1] / peer)
                                + (t == 1 ? String.format(Locale.ROOT, "; per CPU-second %.1f vs %.1f = %.2fx", r[4],
                                peerCpu, r[4] / peerCpu) : ""));
                    }
                }
            }
        } finally {
            new CpuThreads(before).apply();
        }
        summary.forEach(out::println);
        out.println("gen tok/s over the tokens after the first (llama.cpp's figure covers all of them); early = "
                + "mean ms/token of tokens 2-33, late = of the 32 tokens before the context fills; wall clock. "
                + "gen tok/CPU-s (1 thread): tokens per second of CPU time, robust to other processes sharing the "
                + "cores: the process CPU (all threads) of the timed generation on both sides, stepslm's from the "
                + "first token to the last, llama.cpp's as bench/llamacpp_gen.mjs reads it");
        out.println("load average at the end: " + Machine.local().loadAverageText());
        out.flush();
        return 0;
    }

    private ModelConfig config(String name, int vocab) {
        ModelConfig gpt = ModelConfig.gpt(vocab, context, blocks, heads, width, 0.0, false);
        return switch (name) {
            // SwiGLU hidden = 2/3 of 4 x width rounded up to 8: 1024 at width 384, the peer's FF
            case "llama" -> new ModelConfig(vocab, context, width, heads, 4.0, ModelConfig.MlpKind.SWIGLU,
                    ModelConfig.NormKind.RMS_NORM, ModelConfig.PositionKind.ROTARY, 0.0, false, true, gpt.steps());
            case "gpt2" -> gpt;
            case "steps" -> gpt.withStepsRecipe();
            default -> throw new IllegalArgumentException("unknown model '" + name + "': use llama, gpt2 or steps");
        };
    }

    /** The JVM's process CPU clock (all threads, nanoseconds), cheap enough to read at every token. */
    private static final com.sun.management.OperatingSystemMXBean PROCESS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /**
     * {prompt tok/s, generation tok/s, early ms/token, late ms/token, generation tokens per process-CPU second} of
     * one warmed-up generation.
     */
    private double[] run(ModelConfig config, int[] prompt, GenerationConfig gen) {
        try (ModelRuntime runtime = ModelRuntime.open(Device.cpu(), KernelChoice.parse(kernels), Precision.FP32, 1);
             LanguageModel model = LanguageModel.create(config, runtime)) {
            Generator generator = new Generator(model, ids -> "");
            // warm-up as long as the timed run, so that the JIT compilers have finished before the process CPU
            // clock starts (a 16-token warm-up left them compiling during the timed run: ~0.6 ms of CPU per token)
            generator.generate(prompt, gen, (tk, text, lp) -> { });
            long[] at = new long[tokens];
            long[] cpu = new long[tokens];
            int[] n = {0};
            Generation g = generator.generate(prompt, gen, (tk, text, lp) -> {
                cpu[n[0]] = PROCESS.getProcessCpuTime();
                at[n[0]++] = System.nanoTime();
            });
            // token i sits at position prompt + i; the 32 tokens before the context fills avoid the shift's prefill
            int lateEnd = Math.min(n[0], context - prompt.length);
            int lateStart = Math.max(2, lateEnd - 32);
            int earlyEnd = Math.min(34, lateEnd);
            return new double[] {g.promptTokensPerSecond(), g.generationTokensPerSecond(),
                (at[earlyEnd - 1] - at[1]) / 1e6 / (earlyEnd - 2), (at[lateEnd - 1] - at[lateStart - 1]) / 1e6
                    / (lateEnd - lateStart), (n[0] - 1) / ((cpu[n[0] - 1] - cpu[0]) / 1e9)};
        }
    }

    /**
     * {llama.cpp's generation tok/s, its tokens per CPU-second} at {@code t} threads from llamacpp_gen.mjs in a
     * bounded child process: the script reads its process CPU time (all threads) around the timed generation only,
     * so node's start, the model load and the warm-up stay out of it.
     */
    private double[] peer(int t) throws IOException, InterruptedException {
        PeerProcess.Result r = PeerProcess.run(List.of("node", peerDir.resolve("llamacpp_gen.mjs").toAbsolutePath()
                .toString(), peerGguf.toAbsolutePath().toString(), Integer.toString(tokens), Integer.toString(t)),
                Map.of(), Duration.ofSeconds(300));
        Matcher m = PEER_LINE.matcher(r.output());
        if (r.exitCode() != 0 || !m.find()) {
            throw new IOException("llama.cpp peer failed (exit " + r.exitCode() + ", or its output lacks the CPU "
                    + "time: copy bench/llamacpp_gen.mjs into --peer-dir): " + r.output().strip());
        }
        return new double[] {Double.parseDouble(m.group(2)), Integer.parseInt(m.group(1))
            / Double.parseDouble(m.group(3))};
    }
}
