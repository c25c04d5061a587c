package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
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

    /**
     * What {@code invocation} printed on System.out, where train, eval, generate and experiment print their results
     * (not on picocli's writer), captured around that one invocation; its exit code must be {@code expectedExit}.
     */
    static String stdout(Supplier<CliRun> invocation, int expectedExit) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        CliRun run;
        try {
            run = invocation.get();
        } finally {
            System.setOut(saved);
        }
        String out = buffer.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, run.exit(), run.err() + out);
        return out;
    }
}
