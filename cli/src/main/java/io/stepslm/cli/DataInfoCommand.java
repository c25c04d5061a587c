package io.stepslm.cli;

import io.stepslm.datasets.Manifest;
import io.stepslm.datasets.ShardDataset;
import io.stepslm.datasets.Split;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm data info}: what a prepared dataset holds, and whether its shards match the manifest. */
@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Print a prepared dataset's manifest summary; check its shards against it (sizes and headers "
                + "always, checksums with --verify).",
        footer = {"", "Examples:", "  stepslm data info --data data/austen",
                "  stepslm data info --data data/austen --tokenizer tokenizer.json --verify"})
public final class DataInfoCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "A folder written by 'stepslm data prepare'.")
    Path data;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "Also check that this tokenizer wrote the shards.")
    Path tokenizer;

    @Option(names = "--verify", description = "Recompute every shard's SHA-256 (reads all data).")
    boolean verify;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        Manifest m = Manifest.read(data);
        String fingerprint = tokenizer == null ? m.tokenizerFingerprint()
                : TokenizerFiles.load(tokenizer).fingerprint();
        try (ShardDataset ds = ShardDataset.open(data, fingerprint)) {
            w.printf(Locale.ROOT,
                    "%s: tokenizer %s (%,d ids, end-of-text %d), %s ids, format %s, split %s, created %s%n", data,
                    m.tokenizerFingerprint(), m.vocabSize(), m.endOfTextId(),
                    m.bytesPerToken() == 2 ? "uint16" : "uint32", m.format(), m.split(), m.createdAt());
            for (Split.Part p : Split.Part.values()) {
                Manifest.PartEntry e = m.part(p);
                w.printf(Locale.ROOT, "  %-5s %,15d tokens %,10d documents %4d shards%n", p.shortName(), e.tokens(),
                        e.documents(), e.shards());
            }
            long skipped = m.sources().stream().mapToLong(Manifest.SourceEntry::skipped).sum();
            long repaired = m.sources().stream().mapToLong(Manifest.SourceEntry::repaired).sum();
            w.printf(Locale.ROOT, "  %d source files, %,d bytes; %d items skipped, %d UTF-8 repairs%n",
                    m.sources().size(), m.sources().stream().mapToLong(Manifest.SourceEntry::bytes).sum(), skipped,
                    repaired);
            w.println("  shards match the manifest (sizes, headers, tokenizer)");
            if (verify) {
                ds.verifyChecksums();
                w.println("  checksums verified");
            }
        }
        return 0;
    }
}
