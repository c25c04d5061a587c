package io.stepslm.cli;

import io.stepslm.generate.Generator;
import io.stepslm.generate.SamplingConfig;
import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepslm generate}: sample text from a checkpoint, streaming tokens as they are chosen. */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Samples a continuation of a prompt from a checkpoint with the model's KV cache",
                "(temperature, top-k, top-p, seed), printing text as it is generated."},
        footer = {"", "Examples:",
                "  stepslm generate --checkpoint runs/demo --prompt 'It is a truth universally acknowledged'",
                "  stepslm generate --checkpoint runs/demo --tokens 200 --temperature 0 --samples 1",
                "  stepslm generate --checkpoint runs/demo --top-p 0.9 --top-k 0 --seed 7 --samples 3"})
public final class GenerateCommand implements Callable<Integer> {

    @Mixin
    LoadedCheckpoint.Options run;

    @Option(names = "--prompt", description = "Text to continue (default: start a fresh document).")
    String prompt = "";

    @Option(names = "--tokens", description = "New tokens per sample (default: ${DEFAULT-VALUE}).")
    int tokens = 300;

    @Option(names = "--temperature", description = "0 = greedy; 1 = the model's distribution (default: ${DEFAULT-VALUE}).")
    double temperature = 0.8;

    @Option(names = "--top-k", description = "Keep the k most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK = 200;

    @Option(names = "--top-p", description = "Nucleus sampling mass; 1 = off (default: ${DEFAULT-VALUE}).")
    double topP = 1.0;

    @Option(names = "--seed", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed = 1337;

    @Option(names = "--samples", description = "Number of independent samples (default: ${DEFAULT-VALUE}).")
    int samples = 1;

    @Option(names = "--stop-at-eot", negatable = true, description = "Stop a sample at <|endoftext|> (default: ${DEFAULT-VALUE}).")
    boolean stopAtEndOfText = true;

    @Override
    public Integer call() throws IOException {
        if (samples < 1) {
            throw new IllegalArgumentException("--samples must be at least 1, got " + samples);
        }
        SamplingConfig sampling = new SamplingConfig(tokens, temperature, topK, topP, seed);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        // one thread unless --threads says otherwise: one-token decoding steps of small models are fastest on one
        try (LoadedCheckpoint loaded = LoadedCheckpoint.open(run, 1)) {
            Tokenizer tokenizer = loaded.tokenizer;
            int[] promptIds = prompt.isEmpty() ? new int[] {tokenizer.endOfTextId()} : tokenizer.encode(prompt);
            Set<Integer> stops = stopAtEndOfText ? Set.of(tokenizer.endOfTextId()) : Set.of();
            Generator generator = new Generator(loaded.model);
            for (int s = 0; s < samples; s++) {
                if (samples > 1) {
                    out.println("---------- sample " + (s + 1) + " ----------");
                }
                out.print(prompt);
                StreamingText text = new StreamingText(tokenizer, out);
                long start = System.nanoTime();
                int[] ids = generator.generate(promptIds, sampling.withSeed(seed + s), stops, text::accept);
                text.flush();
                double seconds = (System.nanoTime() - start) / 1e9;
                out.println();
                System.err.printf("[%d tokens in %.2f s, %.1f tokens/s]%n", ids.length, seconds, ids.length / seconds);
            }
        }
        return 0;
    }

    /**
     * Prints tokens as they arrive. A BPE token can end in the middle of a UTF-8 character, so text is printed only
     * up to the last complete character (the decoder's replacement character marks an incomplete tail).
     */
    static final class StreamingText {
        private final Tokenizer tokenizer;
        private final PrintStream out;
        private int[] pending = new int[0];

        StreamingText(Tokenizer tokenizer, PrintStream out) {
            this.tokenizer = tokenizer;
            this.out = out;
        }

        void accept(int token) {
            pending = Arrays.copyOf(pending, pending.length + 1);
            pending[pending.length - 1] = token;
            String text = tokenizer.decode(pending);
            if (!text.endsWith("\uFFFD") || pending.length > 8) {
                out.print(text);
                pending = new int[0];
            }
        }

        void flush() {
            if (pending.length > 0) {
                out.print(tokenizer.decode(pending));
                pending = new int[0];
            }
        }
    }
}
