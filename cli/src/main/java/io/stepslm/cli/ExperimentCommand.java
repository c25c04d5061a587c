package io.stepslm.cli;

import picocli.CommandLine.Command;

/** {@code stepslm experiment}: experiments that answer a question about the architecture; one class per experiment. */
@Command(
        name = "experiment",
        mixinStandardHelpOptions = true,
        description = "Run a controlled experiment and write a report with every number (docs/experiments.md).",
        subcommands = {StepsVsPlainCommand.class},
        footer = {"", "Examples:", "  stepslm experiment steps-vs-plain --out runs/steps-vs-plain"})
public final class ExperimentCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name an experiment: steps-vs-plain");
    }
}
