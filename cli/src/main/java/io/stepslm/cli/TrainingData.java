package io.stepslm.cli;

import io.stepslm.datasets.Document;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.Manifest;
import io.stepslm.datasets.ShardDataset;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.Split;
import io.stepslm.datasets.WindowSource;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.train.RunData;
import io.stepslm.train.TokenCorpus;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** Where the windows come from: token ids in memory (text files) or memory-mapped shards on disk. */
interface TrainingData extends AutoCloseable {
    String description();

    /** The tokenizer of the ids (for --char, the one built from the text). */
    Tokenizer tokenizer();

    double bytesPerToken();

    WindowSource train(LoaderState start);

    Trainer.Validation validation();

    @Override
    void close() throws IOException;

    long trainTokens();

    long validationTokens();

    /** Refuses a --context that the data cannot fill with one window of context + 1 tokens. */
    default void requireWindows(int context) {
        long[] tokens = {trainTokens(), validationTokens()};
        String[] part = {"training", "validation"};
        for (int i = 0; i < 2; i++) {
            if (tokens[i] < context + 1L) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--context %d needs windows of %d "
                        + "tokens, but the %s split holds only %,d tokens: lower --context to at most %d, or "
                        + "give more text%s", context, context + 1, part[i], tokens[i], Math.max(tokens[i] - 1, 0),
                        i == 1 ? " (or a larger --val-fraction)" : ""));
            }
        }
    }

    static TrainingData memory(TokenCorpus corpus, Tokenizer tokenizer, TrainConfig config) {
        return new TrainingData() {
            public Tokenizer tokenizer() {
                return tokenizer;
            }

            public String description() {
                return String.format(Locale.ROOT, "%,d training tokens, %,d validation tokens (in memory)",
                        corpus.train().length, corpus.validation().length);
            }

            public double bytesPerToken() {
                return corpus.bytesPerToken();
            }

            public long trainTokens() {
                return corpus.train().length;
            }

            public long validationTokens() {
                return corpus.validation().length;
            }

            public WindowSource train(LoaderState start) {
                return TokenWindows.random(corpus.train(), config.context(), start);
            }

            public Trainer.Validation validation() {
                return () -> TokenWindows.sequential(corpus.validation(), config.context());
            }

            public void close() {}
        };
    }

    static TrainingData shards(ShardDataset ds, Tokenizer tokenizer, TrainConfig config) {
        long bytes = ds.manifest().sources().stream().mapToLong(Manifest.SourceEntry::bytes).sum();
        long tokens = ds.manifest().sources().stream().mapToLong(Manifest.SourceEntry::tokens).sum();
        return new TrainingData() {
            public Tokenizer tokenizer() {
                return tokenizer;
            }

            public String description() {
                return String.format(Locale.ROOT, "%,d training tokens, %,d validation tokens (shards in %s)",
                        ds.tokens(Split.Part.TRAIN), ds.tokens(Split.Part.VALIDATION), ds.dir());
            }

            public double bytesPerToken() {
                return tokens > 0 ? (double) bytes / tokens : 0;
            }

            public long trainTokens() {
                return ds.tokens(Split.Part.TRAIN);
            }

            public long validationTokens() {
                return ds.tokens(Split.Part.VALIDATION);
            }

            public WindowSource train(LoaderState start) {
                return ds.sampler(Split.Part.TRAIN, config.context(), start);
            }

            public Trainer.Validation validation() {
                return () -> ds.sequential(Split.Part.VALIDATION, config.context(), false,
                        LoaderState.initial(config.seed()));
            }

            public void close() throws IOException {
                ds.close();
            }
        };
    }

    /**
     * Opens the data {@code run} names: its shards, or its text (the built-in corpus when it names none) tokenized
     * in memory with {@code tokenizer}, or with a character vocabulary built from the text when that is null.
     */
    static TrainingData open(RunData run, Tokenizer tokenizer, TrainConfig config, Consumer<String> log)
            throws IOException {
        if (run.shards() != null) {
            return shards(ShardDataset.open(Path.of(run.shards()), tokenizer), tokenizer, config);
        }
        List<Document> documents = run.inputs().isEmpty() ? DataOptions.builtinCorpus()
                : DataOptions.read(new SourceSpec(run.inputs(), DataOptions.textFormat(run.format()),
                        run.field() != null ? run.field() : SourceSpec.DEFAULT_JSON_FIELD,
                        DataOptions.onErrorPolicy(run.onError())), log);
        Tokenizer t = tokenizer != null ? tokenizer
                : CharTokenizer.fromTexts(documents.stream().map(Document::text).iterator()); // --char
        return memory(TokenCorpus.split(documents.iterator(), t, run.valFraction()), t, config);
    }
}
