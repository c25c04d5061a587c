package io.stepslm.cli;

import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.CharTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm tokenizer info}: what a tokenizer file holds, and optionally how well it compresses a text. */
@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        description = "Show a tokenizer's type, vocabulary, merges, split pattern, added tokens and fingerprint.",
        footer = {"", "Examples:",
                "  stepslm tokenizer info --tokenizer tokenizer.json",
                "  stepslm tokenizer info --tokenizer tokenizer.json --input ../shared/data/austen/persuasion.txt"})
public final class TokenizerInfoCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json (BPE) or char json.")
    Path tokenizer;

    @Option(names = "--input", paramLabel = "FILE",
            description = "Also report tokens and bytes/token on this UTF-8 file.")
    Path input;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Tokenizer t = TokenizerFiles.load(tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        out.println("file:         " + tokenizer);
        if (t instanceof BpeTokenizer b) {
            out.println("type:         byte-level BPE (HuggingFace tokenizer.json)");
            out.println("vocabulary:   " + b.vocabSize() + " ids");
            out.println("merges:       " + b.mergeCount());
            out.println("split:        " + b.pattern().name().toLowerCase(Locale.ROOT)
                    + (b.addPrefixSpace() ? " (add_prefix_space)" : ""));
            for (BpeTokenizer.AddedToken a : b.addedTokens()) {
                out.println("added token:  " + a.id() + " " + a.content() + (a.special() ? " (special)" : ""));
            }
        } else if (t instanceof CharTokenizer c) {
            out.println("type:         char");
            out.println("vocabulary:   " + c.vocabSize() + " ids (" + (c.vocabSize() - 1) + " characters + "
                    + Tokenizer.END_OF_TEXT + ")");
        }
        out.println("end of text:  " + t.endOfTextId());
        out.println("fingerprint:  " + t.fingerprint());
        if (input != null) {
            String text = Files.readString(input, StandardCharsets.UTF_8);
            long bytes = text.getBytes(StandardCharsets.UTF_8).length;
            int tokens = t.encode(text).length;
            out.printf(Locale.ROOT, "on %s: %,d bytes -> %,d tokens, %.3f bytes/token%n", input, bytes, tokens,
                    tokens == 0 ? 0.0 : (double) bytes / tokens);
        }
        out.flush();
        return 0;
    }
}
