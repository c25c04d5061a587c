package io.stepslm.cli;

import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.TextFormat;
import io.stepslm.train.RunData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The data flags of {@code stepslm train} (a picocli mixin): the text sources of every reader ({@link DataOptions}),
 * or prepared shards, the tokenizer and the validation split; and the {@link RunData} they make. A new run stores
 * it in its folder; a resumed run reads it back, and any data flag given again must say the same.
 */
final class TrainDataOptions {

    @Mixin
    DataOptions text; // --input: text files, folders or globs (default: the built-in corpus)

    @Option(names = "--shards", paramLabel = "DIR", description = "A dataset from 'stepslm data prepare' (streamed "
            + "from disk; needs --tokenizer).")
    Path shards;

    @Option(names = "--val-fraction", description = "Last fraction of the token stream held out for validation "
            + "(default: 0.1, nanoGPT).")
    Double valFraction;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "A tokenizer.json (stepslm BPE, HuggingFace or "
            + "char).")
    Path tokenizerFile;

    @Option(names = "--char", description = "Character-level: build the vocabulary from the training text (nanoGPT "
            + "shakespeare_char).")
    boolean charLevel;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    private double fraction() {
        return valFraction != null ? valFraction : 0.1;
    }

    private boolean given(String flag) {
        return command != null && command.commandLine() != null && command.commandLine().getParseResult() != null
                && command.commandLine().getParseResult().hasMatchedOption(flag);
    }

    private static String absolute(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize().toString();
    }

    private List<String> absoluteInputs() {
        return text.inputs(List.of()).stream().map(i -> absolute(Path.of(i))).toList();
    }

    /**
     * The data flags of a new run, checked, with absolute paths and the format resolved, as {@link RunData#write}
     * stores them; {@code tokenizerInCheckpoint}: a resumed run needs neither --tokenizer nor --char.
     */
    RunData forNewRun(Consumer<String> log, boolean tokenizerInCheckpoint) throws IOException {
        if (shards != null) {
            if (!text.inputs(List.of()).isEmpty()) {
                throw new IllegalArgumentException("give either --shards DIR or --input files, not both");
            }
            if (tokenizerFile == null) {
                throw new IllegalArgumentException("--shards needs the tokenizer the dataset was prepared with: "
                        + "add --tokenizer FILE");
            }
            return new RunData(List.of(), null, null, "fail", absolute(shards), absolute(tokenizerFile), false,
                    fraction());
        }
        if (tokenizerFile != null && charLevel) {
            throw new IllegalArgumentException("give either --tokenizer FILE or --char, not both");
        }
        if (tokenizerFile == null && !charLevel && !tokenizerInCheckpoint) {
            throw new IllegalArgumentException("no tokenizer: pass --tokenizer tokenizer.json (see 'stepslm tokenizer "
                    + "train') or --char for a character-level vocabulary built from the data");
        }
        if (text.inputs(List.of()).isEmpty()) {
            return new RunData(List.of(), null, null, "fail", null, absolute(tokenizerFile), charLevel, fraction());
        }
        SourceSpec s = text.sourceSpec(List.of(), log); // the format by the file names when --format is not given
        return new RunData(absoluteInputs(), DataOptions.formatName(s.format()),
                s.format() == TextFormat.JSONL ? s.jsonField() : null, s.onError().name().toLowerCase(Locale.ROOT),
                null, absolute(tokenizerFile), charLevel, fraction());
    }

    /**
     * The data of a resumed run: what its run folder stored, each data flag given again checked against it; a run
     * without {@link RunData#FILE} (an older stepslm, or a checkpoint outside a run folder) takes the flags.
     */
    RunData forResume(Path sourceRun, Consumer<String> log) throws IOException {
        RunData stored = sourceRun == null ? null : RunData.read(sourceRun);
        if (stored == null) {
            boolean anyFlag = shards != null || !text.inputs(List.of()).isEmpty() || tokenizerFile != null
                    || charLevel;
            RunData flags = anyFlag ? forNewRun(log, true)
                    : new RunData(List.of(), null, null, "fail", null, null, true, fraction()); // the built-in corpus
            log.accept("data: from the flags (" + (sourceRun == null ? "the checkpoint is outside a run folder"
                    : sourceRun.resolve(RunData.FILE) + " does not exist") + "): " + flags.describe());
            return flags;
        }
        Path file = sourceRun.resolve(RunData.FILE);
        for (String flag : List.of("--input", "--data")) {
            if (given(flag)) {
                requireSame(flag, absoluteInputs(), stored.inputs(), file);
            }
        }
        if (given("--shards")) {
            requireSame("--shards", absolute(shards), stored.shards(), file);
        }
        if (given("--format")) {
            requireSame("--format", DataOptions.formatName(DataOptions.textFormat(text.format)), stored.format(),
                    file);
        }
        if (given("--field") || given("--json-field")) {
            requireSame(given("--field") ? "--field" : "--json-field", text.field != null ? text.field
                    : text.jsonFieldAlias, stored.field(), file);
        }
        if (given("--on-error")) {
            requireSame("--on-error", DataOptions.onErrorPolicy(text.onError).name().toLowerCase(Locale.ROOT),
                    stored.onError(), file);
        }
        if (given("--tokenizer")) {
            requireSame("--tokenizer", absolute(tokenizerFile), stored.tokenizer(), file);
        }
        if (given("--char")) {
            requireSame("--char", charLevel, stored.charLevel(), file);
        }
        if (given("--val-fraction")) {
            requireSame("--val-fraction", valFraction, stored.valFraction(), file);
        }
        log.accept("data: from the run folder (" + file + "): " + stored.describe());
        return stored;
    }

    private static void requireSame(String flag, Object given, Object stored, Path file) {
        if (!Objects.equals(given, stored)) {
            throw new IllegalArgumentException(flag + " " + given + " does not match the data this run was trained on: "
                    + file + " holds " + (stored == null ? "no " + flag : flag + " " + stored) + "; drop " + flag
                    + " to resume on the run's own data, or start a new run with --out");
        }
    }
}
