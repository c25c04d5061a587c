package io.stepslm.cli;

import io.stepslm.bench.BenchCommand;
import java.util.List;

/** The list of top-level subcommands: add a new command class here and nowhere else. */
final class Subcommands {
    private Subcommands() {}

    static List<Object> all() {
        return List.of(new DemoCommand(), new TokenizerCommand(), new DataCommand(), new TrainCommand(),
                new EvalCommand(), new GenerateCommand(), new ChatCommand(), new ServeCommand(), new BenchCommand(),
                new DiagnoseCommand(), new ExperimentCommand());
    }
}
