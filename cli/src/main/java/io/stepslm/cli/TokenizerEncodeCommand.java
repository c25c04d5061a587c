package io.stepslm.cli;

import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm tokenizer encode}: text (argument, file or stdin) to ids on stdout. */
@Command(
        name = "encode",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Encode text to token ids (space-separated on one line).",
                "Special tokens such as <|endoftext|> that appear literally in the text are matched first.",
                "Reads stdin when neither --text nor --input is given."},
        footer = {"", "Examples:",
                "  stepslm tokenizer encode --tokenizer tokenizer.json --text 'Hello world'",
                "  stepslm tokenizer encode --tokenizer tokenizer.json --input chapter1.txt --count",
                "  echo 'Hello' | stepslm tokenizer encode --tokenizer tokenizer.json --tokens"})
public final class TokenizerEncodeCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "tokenizer.json (BPE) or char json.")
    Path tokenizer;

    @ArgGroup(exclusive = true)
    Source source = new Source();

    static final class Source {
        @Option(names = "--text", description = "The text to encode.")
        String text;

        @Option(names = "--input", paramLabel = "FILE", description = "A UTF-8 file to encode.")
        Path input;
    }

    @Option(names = "--tokens", description = "Print one 'id<TAB>token' line per token instead of the ids.")
    boolean tokens;

    @Option(names = "--count", description = "Print only the number of tokens and bytes per token.")
    boolean count;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Tokenizer t = TokenizerFiles.load(tokenizer);
        String text;
        if (source.text != null) {
            text = source.text;
        } else if (source.input != null) {
            text = Files.readString(source.input, StandardCharsets.UTF_8);
        } else {
            text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int[] ids = t.encode(text);
        PrintWriter out = spec.commandLine().getOut();
        if (count) {
            int bytes = text.getBytes(StandardCharsets.UTF_8).length;
            out.printf(java.util.Locale.ROOT, "%d tokens, %d bytes, %.3f bytes/token%n", ids.length, bytes,
                    ids.length == 0 ? 0.0 : (double) bytes / ids.length);
        } else if (tokens) {
            for (int id : ids) {
                out.println(id + "\t" + (t instanceof BpeTokenizer b ? b.token(id) : t.decode(new int[] {id})));
            }
        } else {
            out.println(IntStream.of(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        out.flush();
        return 0;
    }
}
