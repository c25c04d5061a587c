package io.stepslm.bench;

import io.stepslm.machine.Machine;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.time.ZoneOffset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Where a benchmark writes its report and the machine the report describes (a picocli mixin:
 * {@code @Mixin BenchReport report;}). The writer is picocli's for the command, so tests that capture a command's
 * output capture the report. It adds no options; picocli takes a class as a mixin only when it carries one of its
 * annotations, hence the bare {@code @Command}.
 */
@Command
final class BenchReport {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    /** The machine being measured: its summary heads the report, its load and CPU time qualify the figures. */
    final Machine machine = Machine.local();

    /** The command's output writer; read it when the command runs (a test sets it after parsing). */
    PrintWriter out() {
        return command.commandLine().getOut();
    }

    /** Today's date (UTC) and the machine's summary, as the first line of a report names them. */
    String dateAndMachine() {
        return LocalDate.now(ZoneOffset.UTC) + ", " + machine.summary();
    }
}
