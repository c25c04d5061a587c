package io.stepslm.cli;

import io.stepslm.datasets.Split;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * How {@code data prepare} holds out validation documents (a picocli mixin). {@code train} on text keeps nanoGPT's
 * split by position instead (its own --val-fraction: the last fraction of the token stream).
 */
public final class SplitOptions {

    @Option(names = "--val-fraction", defaultValue = "0.005", paramLabel = "F",
            description = "Share of documents held out for validation by a stable hash of their text "
                    + "(default: ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(names = "--val-files", arity = "1..*", paramLabel = "NAME",
            description = "Hold out whole files instead (names or globs, e.g. persuasion.txt); overrides "
                    + "--val-fraction.")
    List<String> valFiles = new ArrayList<>();

    public Split split() {
        return valFiles.isEmpty() ? Split.byHash(valFraction) : Split.byFile(valFiles);
    }

    String describe() {
        return valFiles.isEmpty() ? String.format(Locale.ROOT, "split by hash, validation fraction %s", valFraction)
                : "split by file, validation " + valFiles;
    }
}
