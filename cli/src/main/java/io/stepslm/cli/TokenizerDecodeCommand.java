package io.stepslm.cli;

import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm tokenizer decode}: ids (arguments or stdin) to text on stdout. */
@Command(
        name = "decode",
        mixinStandardHelpOptions = true,
        description = {"Decode token ids to text.",
                "Ids come from the arguments or, when there are none, from stdin; separators may be spaces, commas or",
                "newlines, and [ ] brackets are ignored (JSON arrays work)."},
        footer = {"", "Examples:",
                "  stepslm tokenizer decode --tokenizer tokenizer.json 1212 318 257",
                "  stepslm tokenizer encode --tokenizer tokenizer.json --text 'Hi'"
                        + " | stepslm tokenizer decode --tokenizer tokenizer.json"})
public final class TokenizerDecodeCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json (BPE) or char json.")
    Path tokenizer;

    @Parameters(paramLabel = "ID", description = "Token ids.")
    List<String> ids = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Tokenizer t = TokenizerFiles.load(tokenizer);
        String raw = ids.isEmpty() ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : String.join(" ", ids);
        PrintWriter out = spec.commandLine().getOut();
        out.print(t.decode(parseIds(raw)));
        out.println();
        out.flush();
        return 0;
    }

    static int[] parseIds(String raw) {
        String[] parts = raw.replace('[', ' ').replace(']', ' ').trim().split("[\\s,]+");
        if (parts.length == 1 && parts[0].isEmpty()) {
            return new int[0];
        }
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + parts[i] + "' (item " + (i + 1)
                        + ") is not a token id: pass integers");
            }
        }
        return out;
    }
}
