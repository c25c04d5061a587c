package io.stepslm.cli;

import io.stepslm.machine.LibtorchSetup;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The root {@code stepslm} command. Each subcommand is its own class; library code throws
 * {@link IllegalArgumentException} or {@link IOException} with a message that names the input and the fix, and only
 * here do those become a one-line error and an exit status (1 for bad input, 2 for bad usage).
 */
@Command(
        name = "stepslm",
        mixinStandardHelpOptions = true,
        versionProvider = StepsLm.Version.class,
        description = "Pretrain small decoder-only language models with StepsNet progressive channel grouping.",
        subcommands = {CommandLine.HelpCommand.class},
        footer = {"", "Examples:", "  ./stepslm demo",
                "  ./stepslm tokenizer train --input corpus/ --vocab-size 8192 --out tokenizer.json"})
public final class StepsLm {

    /** Subcommands are registered here, in the order `stepslm --help` lists them. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new StepsLm());
        for (Object sub : Subcommands.all()) {
            cl.addSubcommand(sub);
        }
        cl.setExecutionExceptionHandler(StepsLm::handleFailure);
        return cl;
    }

    public static void main(String[] args) {
        int refused = checkLibtorch(LibtorchSetup::setting, System.err);
        System.exit(refused != 0 ? refused : commandLine().execute(args));
    }

    /**
     * Refuses, before DJL loads anything, a libtorch chosen through PYTORCH_LIBRARY_PATH, PYTORCH_VERSION or
     * PYTORCH_FLAVOR (read through {@code settings}, "" when unset) that DJL 0.36 cannot run: it compares only
     * version strings and would fail or corrupt memory at the first mismatched call (docs/gpu.md). Returns the exit
     * status: 0, or 1 after one line on {@code err}.
     */
    static int checkLibtorch(UnaryOperator<String> settings, PrintStream err) {
        if (Stream.of("PYTORCH_LIBRARY_PATH", "PYTORCH_VERSION", "PYTORCH_FLAVOR")
                .allMatch(n -> settings.apply(n).isEmpty())) {
            return 0; // the bundled CPU build or DJL's cache of its own: nothing a user pointed at
        }
        LibtorchSetup setup = LibtorchSetup.from(settings);
        String problem = setup.problem();
        if (problem != null) {
            err.println("stepslm: error: " + problem);
            return 1;
        }
        String note = setup.note();
        if (note != null) {
            err.println(note);
        }
        return 0;
    }

    /** Turns a failure a user can cause into one clear line on stderr; anything else keeps its stack trace. */
    static int handleFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        String message;
        if (cause instanceof NoSuchFileException nsf) {
            message = "no such file: " + nsf.getFile() + " (check the path)";
        } else if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException
                || cause instanceof IOException) {
            message = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        } else if (cause instanceof OutOfMemoryError) {
            message = "out of memory: lower the batch size or use gradient accumulation, or raise the heap with "
                    + "JAVA_OPTS=-Xmx...";
        } else {
            throw new RuntimeException(e);
        }
        cl.getErr().println(cl.getCommandSpec().qualifiedName() + ": error: " + message);
        return 1;
    }

    /** Prints the version from the jar manifest when present. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = StepsLm.class.getPackage().getImplementationVersion();
            return new String[] {"stepslm " + (v == null ? "(development build)" : v)};
        }
    }
}
