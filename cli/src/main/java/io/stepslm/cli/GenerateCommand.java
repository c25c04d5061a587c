package io.stepslm.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.stepslm.generate.Generation;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.Generator;
import io.stepslm.generate.SamplingConfig;
import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
        description = {"Samples a continuation of a prompt from a checkpoint with the model's KV cache, printing text",
                "as it is generated. Sampling applies, in this order: repetition penalty (last --repeat-last-n",
                "tokens), presence and frequency penalties, temperature, top-k, top-p, min-p."},
        footer = {"", "Examples:",
                "  stepslm generate --checkpoint runs/demo --prompt 'It is a truth universally acknowledged'",
                "  stepslm generate --checkpoint runs/demo --tokens 200 --temperature 0 --samples 1",
                "  stepslm generate --checkpoint runs/demo --top-p 0.9 --top-k 0 --min-p 0.05 --seed 7 --samples 3",
                "  stepslm generate --checkpoint runs/demo --repeat-penalty 1.1 --stop '\\n\\n' --json",
                "  echo 'Mr. Darcy' | stepslm generate --checkpoint runs/demo --prompt-file -"})
public final class GenerateCommand implements Callable<Integer> {

    @Mixin
    TrainedModel.Options run;

    @Option(names = "--prompt", description = "Text to continue (default: start a fresh document).")
    String prompt = "";

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "Read the prompt from FILE, '-' for standard "
            + "input (the whole input is one prompt; with --per-document each document, separated by "
            + Tokenizer.END_OF_TEXT + ", is one).")
    String promptFile;

    @Option(names = "--per-document", description = "With --prompt-file: one generation per document of the input.")
    boolean perDocument;

    @Option(names = "--tokens", description = "New tokens per sample at most (default: ${DEFAULT-VALUE}).")
    int tokens = 300;

    @Option(names = "--temperature",
            description = "0 = greedy; 1 = the model's distribution (default: ${DEFAULT-VALUE}).")
    double temperature = 0.8;

    @Option(names = "--top-k", description = "Keep the k most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK = 200;

    @Option(names = "--top-p", description = "Nucleus sampling mass; 1 = off (default: ${DEFAULT-VALUE}).")
    double topP = 1.0;

    @Option(names = "--min-p", description = "Keep tokens at least this fraction as likely as the top one; 0 = off "
            + "(default: ${DEFAULT-VALUE}).")
    double minP = 0;

    @Option(names = "--repeat-penalty", description = "Penalty of tokens among the last --repeat-last-n (llama.cpp); "
            + "1 = off (default: ${DEFAULT-VALUE}).")
    double repeatPenalty = 1.0;

    @Option(names = "--repeat-last-n", description = "Tokens the repeat penalty looks back at; -1 = the context "
            + "(default: ${DEFAULT-VALUE}).")
    int repeatLastN = SamplingConfig.DEFAULT_REPEAT_LAST_N;

    @Option(names = "--presence-penalty", description = "Subtracted once from generated tokens' logits (OpenAI); "
            + "0 = off (default: ${DEFAULT-VALUE}).")
    double presencePenalty = 0;

    @Option(names = "--frequency-penalty", description = "Subtracted per occurrence from generated tokens' logits "
            + "(OpenAI); 0 = off (default: ${DEFAULT-VALUE}).")
    double frequencyPenalty = 0;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop before this text (repeatable; \\n is a "
            + "newline). The output ends right before it.")
    List<String> stops = new ArrayList<>();

    @Option(names = "--seed", description = "Sampling seed; sample s uses seed + s (default: ${DEFAULT-VALUE}).")
    long seed = 1337;

    @Option(names = "--samples", description = "Number of independent samples per prompt (default: ${DEFAULT-VALUE}).")
    int samples = 1;

    // picocli: a negatable boolean initialised to true is inverted by its positive form and left as is by
    // --no-...; defaultValue and fallbackValue "true" make --stop-at-eot true and --no-stop-at-eot false
    @Option(names = "--stop-at-eot", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Stop a sample at <|endoftext|> (default: ${DEFAULT-VALUE}).")
    boolean stopAtEndOfText;

    @Option(names = "--json", description = "Print one JSON object per sample (text, token counts, stop reason, "
            + "prompt and generation tokens/s) instead of streaming the text.")
    boolean json;

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    @Override
    public Integer call() throws IOException {
        if (samples < 1) {
            throw new IllegalArgumentException("--samples must be at least 1, got " + samples);
        }
        if (promptFile != null && !prompt.isEmpty()) {
            throw new IllegalArgumentException("--prompt and --prompt-file both given: pass one of them");
        }
        if (perDocument && promptFile == null) {
            throw new IllegalArgumentException("--per-document needs --prompt-file FILE (or - for standard input)");
        }
        List<String> stopStrings = new ArrayList<>();
        for (String s : stops) {
            stopStrings.add(s.replace("\\n", "\n").replace("\\t", "\t"));
        }
        SamplingConfig sampling = new SamplingConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                presencePenalty, frequencyPenalty, Map.of(), seed);
        GenerationConfig base = new GenerationConfig(tokens, sampling, Set.of(), stopStrings, -1);
        List<String> prompts = prompts();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        // one thread unless --threads says otherwise: one-token decoding steps of small models are fastest on one
        try (TrainedModel loaded = TrainedModel.open(run, 1)) {
            Tokenizer tokenizer = loaded.tokenizer;
            GenerationConfig config = base.withStops(stopAtEndOfText ? Set.of(tokenizer.endOfTextId()) : Set.of(),
                    stopStrings);
            Generator generator = new Generator(loaded.model, tokenizer::decode);
            for (String p : prompts) {
                int[] promptIds = p.isEmpty() ? new int[] {tokenizer.endOfTextId()} : tokenizer.encode(p);
                for (int s = 0; s < samples; s++) {
                    GenerationConfig c = config.withSampling(sampling.withSeed(seed + s));
                    if (!json && samples > 1) {
                        out.println("---------- sample " + (s + 1) + " ----------");
                    }
                    if (!json) {
                        out.print(p);
                    }
                    Generation g = generator.generate(promptIds, c, (token, text, lp) -> {
                        if (!json) {
                            out.print(text);
                        }
                    });
                    if (json) {
                        out.println(GSON.toJson(toJson(p, seed + s, g)));
                    } else {
                        out.println();
                    }
                    System.err.printf(Locale.ROOT, "[%d tokens in %.2f s, %.1f tokens/s; prompt %d tokens, %.1f "
                                    + "tokens/s; stop: %s]%n", g.tokens().length,
                            (g.promptNanos() + g.decodeNanos()) / 1e9, g.generationTokensPerSecond(),
                            g.promptTokens(), g.promptTokensPerSecond(),
                            g.stopReason().name().toLowerCase(Locale.ROOT));
                }
            }
        }
        return 0;
    }

    private static JsonObject toJson(String prompt, long seed, Generation g) {
        JsonObject o = new JsonObject();
        o.addProperty("prompt", prompt);
        o.addProperty("text", g.text());
        o.addProperty("seed", seed);
        o.addProperty("prompt_tokens", g.promptTokens());
        o.addProperty("generated_tokens", g.tokens().length);
        o.addProperty("stop_reason", g.stopReason().name().toLowerCase(Locale.ROOT));
        o.addProperty("prompt_tokens_per_second", round(g.promptTokensPerSecond()));
        o.addProperty("generation_tokens_per_second", round(g.generationTokensPerSecond()));
        return o;
    }

    private static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }

    /** The prompts to run: --prompt, or the file's (or standard input's) whole text or documents. */
    private List<String> prompts() throws IOException {
        if (promptFile == null) {
            return List.of(prompt);
        }
        String text;
        if (promptFile.equals("-")) {
            text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        } else {
            try {
                text = Files.readString(Path.of(promptFile), StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new IOException("--prompt-file " + promptFile + " does not exist: give a text file or - for "
                        + "standard input", e);
            } catch (java.nio.charset.MalformedInputException e) {
                throw new IOException("--prompt-file " + promptFile + " is not UTF-8 text: convert it to UTF-8", e);
            }
        }
        if (!perDocument) {
            return List.of(text);
        }
        List<String> docs = new ArrayList<>();
        for (String d : text.split(java.util.regex.Pattern.quote(Tokenizer.END_OF_TEXT), -1)) {
            if (!d.isBlank()) {
                docs.add(d.strip());
            }
        }
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("--prompt-file " + promptFile + " holds no document: write text, "
                    + "documents separated by " + Tokenizer.END_OF_TEXT);
        }
        return docs;
    }
}
