package io.stepslm.cli;

import io.stepslm.datasets.ConsoleProgress;
import io.stepslm.datasets.DataReport;
import io.stepslm.datasets.Manifest;
import io.stepslm.datasets.PrepareConfig;
import io.stepslm.datasets.Progress;
import io.stepslm.datasets.ShardWriter;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.Split;
import io.stepslm.tokenizer.InputFiles;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm data prepare}: tokenize a corpus once into shards with a manifest. */
@Command(
        name = "prepare",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Tokenize a corpus once into shards of token ids with a manifest.",
                "Shards hold uint16 ids when the vocabulary fits, else uint32; manifest.json records the tokenizer "
                + "fingerprint,",
                "token and document counts, and the source files with sizes and checksums.",
                "Documents are split into train/validation by a stable hash of their text (or by file) and each is "
                + "followed",
                "by <|endoftext|>. Output is written to a temporary folder and renamed when complete."},
        footer = {"", "Examples:",
                "  stepslm data prepare --input ../shared/data/austen --val-files persuasion.txt --tokenizer "
                + "tokenizer.json --out data/austen",
                "  stepslm data prepare --input corpus.tar.gz --format blocks --val-fraction 0.01 --tokenizer "
                + "tokenizer.json --out data/c",
                "  stepslm data prepare --input 'web/*.jsonl.zst' --format jsonl --field text --on-error skip "
                + "--tokenizer tokenizer.json --out data/web"})
public final class DataPrepareCommand implements Callable<Integer> {

    @Mixin
    DataOptions data;

    @Mixin
    SplitOptions split;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json (BPE) or a char tokenizer file.")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist unless "
            + "--force).")
    Path out;

    @Option(names = "--threads", paramLabel = "N", description = "Tokenizer threads (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--shard-tokens", defaultValue = "100000000", paramLabel = "N",
            description = "Tokens per shard (default: ${DEFAULT-VALUE}, as nanoGPT's and llm.c's FineWeb scripts).")
    long shardTokens;

    @Option(names = "--force", description = "Replace an existing output folder, once the new one is complete.")
    boolean force;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        ShardWriter.removeStale(out).forEach(w::println); // what a killed data prepare into --out left beside it
        Tokenizer tok = TokenizerFiles.load(tokenizer);
        PrepareConfig config = new PrepareConfig(split.split(), threads, shardTokens, force);
        SourceSpec source = data.sourceSpec(List.of(), w::println);
        w.printf(Locale.ROOT, "data prepare: %s, %s; tokenizer %s (%,d ids, fingerprint %s); %d threads, "
                        + "%,d tokens per shard; out %s%n", DataOptions.describe(source), split.describe(), tokenizer,
                tok.vocabSize(), tok.fingerprint().substring(0, Math.min(16, tok.fingerprint().length())), threads,
                shardTokens, out);
        w.flush();
        DataReport report = new DataReport();
        long start = System.nanoTime();
        Manifest m;
        if (quiet) {
            m = ShardWriter.prepare(source, tok, config, out, (Progress) (a, b, c) -> { }, report);
        } else {
            long total = 0;
            for (Path f : InputFiles.resolve(source.inputs())) {
                total += Files.size(f);
            }
            try (ConsoleProgress bar = new ConsoleProgress("prepare", total)) {
                m = ShardWriter.prepare(source, tok, config, out, bar, report);
            }
        }
        double s = (System.nanoTime() - start) / 1e9;
        w.print(report.table());
        Manifest.PartEntry train = m.part(Split.Part.TRAIN);
        Manifest.PartEntry val = m.part(Split.Part.VALIDATION);
        long bytes = report.sources().stream().mapToLong(x -> x.bytes()).sum();
        w.printf(Locale.ROOT, "wrote %s in %.1f s (%.2f MB/s, %.2f M tokens/s): train %,d tokens in %,d documents (%d "
                + "shards), "
                        + "validation %,d tokens in %,d documents (%d shards), %s ids%n",
                out, s, bytes / 1e6 / s, (train.tokens() + val.tokens()) / 1e6 / s, train.tokens(), train.documents(),
                train.shards(),
                val.tokens(), val.documents(), val.shards(), m.bytesPerToken() == 2 ? "uint16" : "uint32");
        if (val.tokens() == 0) {
            spec.commandLine().getErr().println("warning: the validation part is empty: raise --val-fraction or name "
                    + "--val-files");
        }
        if (report.skipped() > 0 || report.repaired() > 0 || report.empty() > 0) {
            spec.commandLine().getErr().printf("note: %d items skipped, %d empty, %d invalid UTF-8 sequences repaired "
                    + "(see the table above)%n",
                    report.skipped(), report.empty(), report.repaired());
        }
        return 0;
    }
}
