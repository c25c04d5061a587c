package io.stepslm.cli;

import picocli.CommandLine.Command;

/** {@code stepslm data}: prepare and inspect pre-tokenized datasets; one class per sub-subcommand. */
@Command(
        name = "data",
        mixinStandardHelpOptions = true,
        description = "Tokenize a corpus once into memory-mapped shards (nanoGPT's train.bin/val.bin), and inspect "
                + "them.",
        subcommands = {DataPrepareCommand.class, DataInfoCommand.class},
        footer = {"", "Examples:",
                "  stepslm data prepare --input ../shared/data/austen --val-files persuasion.txt"
                        + " --tokenizer tokenizer.json --out data/austen",
                "  stepslm data prepare --input 'dumps/*.jsonl.zst' --format jsonl --field text"
                        + " --tokenizer tokenizer.json --out data/web --on-error skip",
                "  stepslm data info --data data/austen --verify"})
public final class DataCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a data command: prepare or info");
    }
}
