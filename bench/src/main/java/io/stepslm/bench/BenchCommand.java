package io.stepslm.bench;

import picocli.CommandLine.Command;

/**
 * {@code stepslm bench}: the group of benchmark commands, one class each. Add a benchmark by listing its class in
 * {@code subcommands} (one line, keep the others).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks that print figures next to a peer measured in the same run.",
        subcommands = {ModelBenchCommand.class, TokenizerBenchCommand.class, DataBenchCommand.class,
            DecodeBenchCommand.class, GenerateBenchCommand.class, GpuBenchCommand.class, ServeBenchCommand.class},
        footer = {"", "Examples:", "  stepslm bench model --no-torch",
                "  stepslm bench model --models char-tiny --threads 1 --anchors ../shared/anchors",
                "  stepslm bench decode --models char-tiny",
                "  bench/generate.sh --threads 1",
                "  stepslm bench serve --tokenizer /tmp/stepslm-llamacpp/austen-21336.json",
                "  STEPSLM_LIBTORCH=cu128 ./stepslm bench gpu"})
public final class BenchCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "name a benchmark, e.g. `stepslm bench model`");
    }
}
