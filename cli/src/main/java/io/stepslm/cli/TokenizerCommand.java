package io.stepslm.cli;

import picocli.CommandLine.Command;

/** {@code stepslm tokenizer}: train, inspect and apply tokenizers; one class per sub-subcommand. */
@Command(
        name = "tokenizer",
        mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE (HuggingFace tokenizer.json) or char tokenizer, and encode/decode with "
                + "it.",
        subcommands = {TokenizerTrainCommand.class, TokenizerEncodeCommand.class, TokenizerDecodeCommand.class,
                TokenizerInfoCommand.class},
        footer = {"", "Examples:",
                "  stepslm tokenizer train --input ../shared/data/austen --vocab-size 8192 --out tokenizer.json",
                "  stepslm tokenizer encode --tokenizer tokenizer.json --text 'It is a truth universally acknowledged'",
                "  stepslm tokenizer encode --tokenizer tokenizer.json --text 'Hello'"
                        + " | stepslm tokenizer decode --tokenizer tokenizer.json",
                "  stepslm tokenizer info --tokenizer tokenizer.json --input corpus.txt"})
public final class TokenizerCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "name a tokenizer command: train, encode, decode or info");
    }
}
