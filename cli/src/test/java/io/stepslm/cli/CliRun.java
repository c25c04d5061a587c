package io.stepslm.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One `stepslm ...` invocation through the root command line, as a user runs it, with its exit code and output. */
record CliRun(int exit, String out, String err) {

    static CliRun of(String... args) {
        CommandLine cl = StepsLm.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
