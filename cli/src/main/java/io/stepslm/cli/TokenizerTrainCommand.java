package io.stepslm.cli;

import io.stepslm.datasets.Documents;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.InputFiles;
import io.stepslm.tokenizer.SplitPattern;
import io.stepslm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm tokenizer train}: learns a byte-level BPE (or a char vocabulary) and writes it atomically. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Train a byte-level BPE (GPT-2 style) or a char vocabulary on text: the inputs and formats of",
                "data prepare. Writes a HuggingFace tokenizer.json (loadable by HuggingFace tokenizers and DJL).",
                "Pre-token counting uses all cores; ties between equally frequent pairs go to the smaller",
                "(left id, right id). Invalid UTF-8 is replaced by U+FFFD and counted per file.",
                "The output is written to a temporary name and renamed: an interrupted run leaves no partial file."},
        footer = {"", "Examples:",
                "  stepslm tokenizer train --input ../shared/data/austen --vocab-size 8192 --out tokenizer.json",
                "  stepslm tokenizer train --input a.txt b.txt --vocab-size 32000 --pattern cl100k --special "
                + "'<|user|>' --out tok.json",
                "  stepslm tokenizer train --char --input ../shared/data/tinyshakespeare.txt --out char.json"})
public final class TokenizerTrainCommand implements Callable<Integer> {

    @Mixin
    DataOptions data;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the tokenizer json.")
    Path out;

    @Option(names = "--vocab-size", defaultValue = "8192",
            description = "Total vocabulary: 256 bytes + merges + special tokens (default: ${DEFAULT-VALUE}; GPT-2: "
                    + "50257).")
    int vocabSize;

    @Option(names = "--min-frequency", defaultValue = "2",
            description = "Never merge a pair seen fewer times (default: ${DEFAULT-VALUE}).")
    int minFrequency;

    @Option(names = "--pattern", defaultValue = "gpt2",
            description = "Pre-tokenization split: gpt2 or cl100k (GPT-4) (default: ${DEFAULT-VALUE}).")
    String pattern;

    @Option(names = "--special", paramLabel = "TOKEN", arity = "1..*",
            description = "Extra special tokens after <|endoftext|> (matched before splitting, never merged).")
    List<String> special = new ArrayList<>();

    @Option(names = "--char", description = "Build a character-level vocabulary instead (nanoGPT shakespeare_char).")
    boolean charLevel;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var err = System.err;
        var outStream = spec.commandLine().getOut();
        long start = System.nanoTime();
        List<String> specials = new ArrayList<>(List.of(Tokenizer.END_OF_TEXT));
        specials.addAll(special);
        // checked before any reading, so that a bad flag fails at once
        BpeTrainerConfig config = charLevel ? null : new BpeTrainerConfig(vocabSize, minFrequency, specials,
                parsePattern(pattern));
        SourceSpec source = data.sourceSpec(List.of(), outStream::println);
        long totalBytes = 0;
        for (Path f : InputFiles.resolve(source.inputs())) {
            totalBytes += Files.size(f);
        }
        try (Documents docs = Documents.open(source)) {
            if (!docs.hasNext()) {
                throw new IllegalArgumentException("the inputs " + source.inputs() + " hold no text ("
                        + docs.report().empty() + " empty, " + docs.report().skipped() + " skipped): pass files that "
                        + "contain text");
            }
            Iterator<String> texts = new Iterator<>() {
                public boolean hasNext() {
                    return docs.hasNext();
                }

                public String next() {
                    return docs.next().text();
                }
            };
            if (charLevel) {
                outStream.printf("tokenizer train: char-level, %s, out %s%n", DataOptions.describe(source), out);
                CharTokenizer t = CharTokenizer.fromTexts(texts);
                t.save(out);
                DataOptions.printRepairs(docs.report(), err::println);
                outStream.printf(Locale.ROOT, "wrote %s: %d characters + %s = %d ids in %.1f s, fingerprint %s%n", out,
                        t.vocabSize() - 1, Tokenizer.END_OF_TEXT, t.vocabSize(), seconds(start),
                        t.fingerprint().substring(0, 16));
                return 0;
            }
            outStream.printf("tokenizer train: %s, %s, out %s%n", config, DataOptions.describe(source), out);
            BpeTrainer trainer = quiet ? new BpeTrainer(config) : BpeTrainer.withProgress(config, err);
            long total = totalBytes;
            BpeTrainer.Result r = trainer.train(texts, new BpeTrainer.Reading() {
                public long totalBytes() {
                    return total;
                }

                public long bytesRead() {
                    return docs.bytesRead();
                }

                public long invalidUtf8Replaced() {
                    return docs.report().repaired();
                }
            });
            BpeTokenizer t = r.tokenizer();
            t.save(out);
            BpeTrainer.Stats s = r.stats();
            DataOptions.printRepairs(docs.report(), err::println);
            outStream.printf(Locale.ROOT, "read %,d bytes: %,d pre-tokens, %,d distinct; counting %.2f s, merging %.2f "
                    + "s%n",
                    s.bytes(), s.pretokens(), s.distinctPretokens(), s.countTime().toNanos() / 1e9,
                    s.mergeTime().toNanos() / 1e9);
            outStream.printf(Locale.ROOT, "learned %,d merges (%s); vocabulary %,d ids; wrote %s in %.1f s, "
                    + "fingerprint %s%n", s.merges(), s.stopReason(), t.vocabSize(), out, seconds(start),
                    t.fingerprint().substring(0, 16));
        }
        return 0;
    }

    static SplitPattern parsePattern(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gpt2", "gpt-2" -> SplitPattern.GPT2;
            case "cl100k", "gpt4", "gpt-4" -> SplitPattern.CL100K;
            default -> throw new IllegalArgumentException("unknown --pattern '" + name + "': use gpt2 or cl100k");
        };
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
