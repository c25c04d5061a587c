package io.stepslm.cli;

import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
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

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json (BPE) or char json.")
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
            text = utf8(Files.readAllBytes(source.input), "--input " + source.input);
        } else {
            text = utf8(System.in.readAllBytes(), "standard input");
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

    /**
     * The text of {@code bytes}, refused with the offset of the first byte that is not UTF-8 (a Latin-1 file, say):
     * encoding replaced characters would give ids for text that is not in the file.
     */
    static String utf8(byte[] bytes, String what) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            throw new IllegalArgumentException(what + " is not UTF-8 text: byte " + at + " is 0x"
                    + String.format("%02X", bytes[at] & 0xFF)
                            + " (Latin-1 or another legacy encoding?); convert it first, "
                    + "e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8");
        }
        decoder.flush(out);
        return out.flip().toString();
    }
}
