package io.stepslm.cli;

import ai.djl.Device;
import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.datasets.Document;
import io.stepslm.datasets.DocumentIds;
import io.stepslm.datasets.LoaderState;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.Generator;
import io.stepslm.generate.TokenListener;
import io.stepslm.generate.SamplingConfig;
import io.stepslm.machine.CpuThreads;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.train.Perplexity;
import io.stepslm.train.RunFolder;
import io.stepslm.train.TokenCorpus;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.Trainer;
import io.stepslm.train.TrainingReport;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code stepslm demo}: the whole pipeline on the built-in corpus in a few minutes on a laptop CPU: train a
 * tokenizer, train a small model, evaluate it, and generate text from it.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"The whole pipeline on the built-in corpus (Austen's Pride and Prejudice), 2-4 minutes on 2 CPU "
                + "cores:",
                "1. train a byte-level BPE tokenizer (or a character vocabulary), 2. train a small GPT (4 layers, "
                + "width 128,",
                "context 64) with checkpoints and a report in --out, 3. validation loss, perplexity and bits per byte,",
                "4. generate a continuation of a prompt with the KV cache."},
        footer = {"", "Examples:", "  stepslm demo",
                "  stepslm demo --tokenizer char --max-steps 1500 --out runs/demo-char",
                "  stepslm demo --model char-tiny-steps --prompt \"Mr. Darcy\""})
public final class DemoCommand implements Callable<Integer> {

    /** The demo's last line: where to see whether StepsNet helps. */
    static final String STEPSNET_POINTER = "Does StepsNet help? ./stepslm experiment steps-vs-plain trains "
            + "parameter-matched plain/StepsNet pairs (docs/experiments.md); ./stepslm diagnose --checkpoint DIR "
            + "shows a model's shortcut ratio.";

    @Option(names = "--tokenizer", description = "bpe (byte-level BPE trained on the corpus) or char (default: "
            + "${DEFAULT-VALUE}).")
    String tokenizerKind = "bpe";

    @Option(names = "--vocab-size", description = "BPE vocabulary size (default: ${DEFAULT-VALUE}).")
    int vocabSize = 512;

    @Option(names = "--model", description = "Model preset (default: ${DEFAULT-VALUE}; char-tiny-steps for the 3-step "
            + "StepsNet).")
    String model = "char-tiny";

    @Option(names = "--max-steps", description = "Training steps (default: ${DEFAULT-VALUE}).")
    int maxSteps = TrainConfig.demo().maxSteps();

    @Option(names = "--threads", description = "CPU threads (default: all cores; try 1 on a busy machine).")
    int threads = 0;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder, replaced on each demo (default: "
            + "${DEFAULT-VALUE}).")
    Path out = Path.of("runs/demo");

    @Option(names = "--prompt", description = "Start of the generated text (default: ${DEFAULT-VALUE}).")
    String prompt = "It is a truth universally acknowledged";

    @Option(names = "--tokens", description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
    int tokens = 200;

    @Override
    public Integer call() throws Exception {
        PrintStream log = System.out;
        long start = System.nanoTime();
        int usedThreads = new CpuThreads(threads).apply();
        String text = BuiltinCorpus.text();

        // ---- 1. tokenizer --------------------------------------------------------------------------------------
        log.printf(Locale.ROOT, "[1/4] tokenizer: %s on %s (%,d characters)%n", tokenizerKind, BuiltinCorpus.NAME,
                text.length());
        Tokenizer tokenizer = switch (tokenizerKind.toLowerCase(Locale.ROOT)) {
            case "bpe" -> {
                long t0 = System.nanoTime();
                BpeTokenizer bpe = new BpeTrainer(BpeTrainerConfig.gpt2(vocabSize)).train(List.of(text).iterator())
                        .tokenizer();
                log.printf(Locale.ROOT, "      %d ids (256 bytes + %d merges + end-of-text), trained in %.1f s%n",
                        bpe.vocabSize(), bpe.mergeCount(), (System.nanoTime() - t0) / 1e9);
                yield bpe;
            }
            case "char" -> CharTokenizer.fromText(text);
            default -> throw new IllegalArgumentException("--tokenizer " + tokenizerKind
                    + " is not known: use bpe or char");
        };
        TokenCorpus corpus = TokenCorpus.split(List.of(new Document(BuiltinCorpus.NAME, text)).iterator(), tokenizer,
                0.1);
        log.printf(Locale.ROOT, "      %,d training + %,d validation tokens, %.2f bytes per token, vocabulary %d%n",
                corpus.train().length, corpus.validation().length, corpus.bytesPerToken(), tokenizer.vocabSize());

        // ---- 2. train ------------------------------------------------------------------------------------------
        TrainConfig config = TrainConfig.demo().withOverrides("{\"maxSteps\": " + maxSteps + "}", "--max-steps");
        Device device = Device.cpu();
        RunFolder.clear(out); // each demo replaces the previous demo's run
        try (ModelRuntime runtime = ModelRuntime.open(device, KernelChoice.FUSED, Precision.FP32, config.seed())) {
            runtime.kernelFallback().ifPresent(reason -> log.println("stepslm: " + reason));
            ModelConfig modelConfig = ModelConfig.preset(model, tokenizer.vocabSize());
            try (LanguageModel lm = LanguageModel.create(modelConfig, runtime)) {
                log.printf(Locale.ROOT, "[2/4] training %s (%,d parameters, %s kernels, %d CPU thread(s)) for %d steps "
                        + "of %d tokens; run folder %s%n",
                        model, lm.parameterCount(), runtime.kernels().name(), usedThreads, config.maxSteps(),
                        config.tokensPerStep(), out);
                Trainer.Result r;
                try (Trainer trainer = new Trainer(lm, tokenizer, config, out, indented(log), corpus.bytesPerToken());
                     StopOnCtrlC stop = StopOnCtrlC.install(trainer)) {
                    trainer.afterEachEvaluation(TrainingReport.atEachEvaluation(out, config));
                    r = trainer.run(TokenWindows.random(corpus.train(), config.context(),
                            LoaderState.initial(config.seed())),
                            () -> TokenWindows.sequential(corpus.validation(), config.context()));
                }
                log.printf(Locale.ROOT, "      %s at %.0f tokens/s; report: %s%n", r.stopReason(),
                        r.trainTokensPerSec(),
                        out.resolve(TrainingReport.FILE));

                // ---- 3. evaluate ----------------------------------------------------------------------------
                int[] ids = DocumentIds.afterEndOfText(corpus.validation(), tokenizer);
                int context = modelConfig.contextLength();
                Perplexity.Score s = Perplexity.score(lm, "validation", ids, corpus.validationBytes(), context,
                        context / 2, 16);
                log.printf(Locale.ROOT, "[3/4] validation (last 10%%, sliding window %d/%d): loss %.4f (untrained: ln "
                        + "%d = %.4f), "
                        + "perplexity %.2f, %.3f bits per byte%n", context, context / 2, s.loss(),
                        tokenizer.vocabSize(),
                        Math.log(tokenizer.vocabSize()), s.perplexity(), s.bitsPerByte());

                // ---- 4. generate ----------------------------------------------------------------------------
                log.printf("[4/4] continuation (temperature 0.8, top-k 200, seed 1337):%n%n%s", prompt);
                log.flush();
                int[] promptIds = tokenizer.encode(prompt);
                GenerationConfig sampling = GenerationConfig.of(tokens, SamplingConfig.defaults())
                        .withStops(Set.of(tokenizer.endOfTextId()), List.of());
                log.println(new Generator(lm, tokenizer::decode).generate(promptIds, sampling,
                        TokenListener.NONE).text());
                log.printf(Locale.ROOT, "%ndemo finished in %.0f s. Next: ./stepslm eval --checkpoint %s <files>, "
                        + "./stepslm generate --help, ./stepslm train --help%n", (System.nanoTime() - start) / 1e9,
                        out);
                log.println(STEPSNET_POINTER);
            }
        }
        return 0;
    }

    /** The trainer's log, indented under the demo's numbered steps. */
    private static PrintStream indented(PrintStream out) {
        return new PrintStream(new java.io.OutputStream() {
            private boolean lineStart = true;

            @Override
            public void write(int b) {
                if (lineStart) {
                    out.print("      ");
                }
                out.write(b);
                lineStart = b == '\n';
            }
        }, true, StandardCharsets.UTF_8);
    }
}
