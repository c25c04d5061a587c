package io.stepslm.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.stepslm.datasets.Document;
import io.stepslm.datasets.DocumentIds;
import io.stepslm.model.LanguageModel;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.train.Perplexity;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stepslm eval}: sliding-window perplexity and bits per byte of a checkpoint on text files. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Token-level perplexity of a checkpoint with a strided sliding window (every token scored once,",
                "with at least context - stride tokens of left context), and bits per byte, per file and in total."},
        footer = {"", "Examples:",
                "  stepslm eval --checkpoint runs/shakespeare val.txt",
                "  stepslm eval --checkpoint runs/a/checkpoints/best --context 256 --stride 128 --json corpus/*.txt"})
public final class EvalCommand implements Callable<Integer> {

    @Mixin
    TrainedModel.Options run;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "Text files, folders or globs (or give them with "
            + "--input).")
    List<String> inputs = new ArrayList<>();

    @Mixin
    DataOptions data;

    @Option(names = "--context", description = "Window length (default: the model's context length).")
    Integer context;

    @Option(names = "--stride", description = "Window step; smaller = more left context per token, slower (default: "
            + "context / 2).")
    Integer stride;

    @Option(names = "--batch-size", description = "Windows per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize = 8;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (data.inputs(inputs).isEmpty()) {
            throw new IllegalArgumentException("no text to score: give text files, folders or globs (or --input)");
        }
        // the text is read before the model is loaded, so that a bad input fails at once
        Map<String, List<Document>> bySource = new LinkedHashMap<>();
        for (Document d : data.documents(inputs, System.err::println)) {
            bySource.computeIfAbsent(d.source(), k -> new ArrayList<>()).add(d);
        }
        try (TrainedModel loaded = TrainedModel.open(run, 0)) {
            LanguageModel model = loaded.model;
            Tokenizer tokenizer = loaded.tokenizer;
            Path dir = loaded.dir;
            int ctx = context == null ? model.config().contextLength() : context;
            int str = stride == null ? Math.max(1, ctx / 2) : stride;
            List<Perplexity.Score> scores = new ArrayList<>();
            Perplexity.Score total = new Perplexity.Score("total", 0, 0, 0);
            for (Map.Entry<String, List<Document>> e : bySource.entrySet()) {
                int[] ids = DocumentIds.afterEndOfText(DocumentIds.join(e.getValue().iterator(), tokenizer), tokenizer);
                long bytes = 0;
                for (Document d : e.getValue()) {
                    bytes += d.text().getBytes(StandardCharsets.UTF_8).length;
                }
                if (ids.length < 2) {
                    continue;
                }
                Perplexity.Score s = Perplexity.score(model, e.getKey(), ids, bytes, ctx, str, batchSize);
                scores.add(s);
                total = total.plus(s, "total");
            }
            if (total.tokens() == 0) {
                throw new IllegalArgumentException("the inputs " + data.inputs(inputs) + " hold no text to score: give "
                        + "non-empty files");
            }
            print(out, dir, ctx, str, scores, total);
        }
        return 0;
    }

    private void print(PrintStream out, Path dir, int ctx, int str, List<Perplexity.Score> scores,
            Perplexity.Score total) {
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("checkpoint", dir.toString());
            o.addProperty("context", ctx);
            o.addProperty("stride", str);
            JsonArray files = new JsonArray();
            for (Perplexity.Score s : scores) {
                files.add(toJson(s));
            }
            o.add("files", files);
            o.add("total", toJson(total));
            out.println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(o));
            return;
        }
        out.printf(Locale.ROOT, "checkpoint %s, context %d, stride %d%n", dir, ctx, str);
        out.printf(Locale.ROOT, "%-40s %12s %12s %8s %10s %10s%n", "file", "tokens", "bytes", "loss", "perplexity",
                "bits/byte");
        for (Perplexity.Score s : scores) {
            row(out, s);
        }
        if (scores.size() > 1) {
            row(out, total);
        }
    }

    private static void row(PrintStream out, Perplexity.Score s) {
        String name = s.source().length() > 40 ? "..." + s.source().substring(s.source().length() - 37) : s.source();
        out.printf(Locale.ROOT, "%-40s %12d %12d %8.4f %10.3f %10.4f%n", name, s.tokens(), s.bytes(), s.loss(),
                s.perplexity(), s.bitsPerByte());
    }

    private static JsonObject toJson(Perplexity.Score s) {
        JsonObject o = new JsonObject();
        o.addProperty("source", s.source());
        o.addProperty("tokens", s.tokens());
        o.addProperty("bytes", s.bytes());
        o.addProperty("loss", s.loss());
        o.addProperty("perplexity", s.perplexity());
        o.addProperty("bitsPerByte", s.bitsPerByte());
        return o;
    }
}
