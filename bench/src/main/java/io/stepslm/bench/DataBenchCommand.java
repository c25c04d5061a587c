package io.stepslm.bench;

import io.stepslm.datasets.DataReport;
import io.stepslm.datasets.LoaderState;
import io.stepslm.datasets.PrepareConfig;
import io.stepslm.datasets.ShardDataset;
import io.stepslm.datasets.ShardWriter;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.datasets.Split;
import io.stepslm.datasets.StreamingConfig;
import io.stepslm.datasets.StreamingLoader;
import io.stepslm.datasets.WindowSource;
import io.stepslm.files.AtomicFiles;
import io.stepslm.train.TokenWindows;
import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stepslm bench data}: a folder of novels (the project uses the six Austen novels of ../shared/data/austen)
 * repeated to about 200 MB, stored as gzip files; streaming throughput (read + decompress + tokenize + pack into
 * windows) with 1 thread and all threads, next to the peer measured in the same run: the BPE tokenizer alone on the
 * same text in memory; then
 * {@code data prepare} of the same corpus, and window throughput from the memory-mapped shards next to copying
 * windows out of an in-heap {@code int[]} (the bound for any loader).
 */
@Command(
        name = "data",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Streaming loader MB/s and tokens/s, and shard sampling tokens/s.",
                "Streaming (read + gunzip + BPE + windows) with 1 and all threads next to the tokenizer alone, and",
                "windows from memory-mapped shards next to an int[] on the heap, on the --source novels repeated to",
                "about 200 MB (generated under --work, never committed)."},
        footer = {"", "Examples:", "  stepslm bench data --source ../shared/data/austen",
                "  stepslm bench data --source ../shared/data/austen --corpus-mb 50 --tokenizer tokenizer.json"})
public final class DataBenchCommand implements Callable<Integer> {

    @Option(names = "--source", required = true, paramLabel = "DIR",
            description = "Folder of .txt novels to repeat (the project's: ../shared/data/austen).")
    Path source;

    @Option(names = "--corpus-mb", defaultValue = "200", paramLabel = "MB",
            description = "Uncompressed corpus size (default: ${DEFAULT-VALUE}).")
    int corpusMb;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "A BPE tokenizer.json; default: train one "
            + "with vocabulary 8192 on the novels (saved under --work).")
    Path tokenizerFile;

    @Option(names = "--work", defaultValue = "/tmp/stepslm-bench-data", paramLabel = "DIR",
            description = "Where the corpus, tokenizer and shards go (reused across runs; default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--block-size", defaultValue = "1024", paramLabel = "T",
            description = "Context length T (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--sample-seconds", defaultValue = "5", paramLabel = "S",
            description = "Duration of each shard sampling run, after a warm-up of at most 1 s "
                    + "(default: ${DEFAULT-VALUE}).")
    double sampleSeconds;

    @Option(names = "--skip-streaming-1", description = "Skip the one-thread streaming run (the slowest part).")
    boolean skipOneThread;

    @Mixin
    BenchReport report;

    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = report.out();
        if (corpusMb <= 0 || blockSize <= 0 || !(sampleSeconds > 0)) {
            throw new IllegalArgumentException("--corpus-mb " + corpusMb + ", --block-size " + blockSize
                    + " and --sample-seconds " + sampleSeconds + " must be positive, e.g. 200, 1024 and 5");
        }
        int cores = report.machine.logicalCpus();
        Files.createDirectories(work);
        out.printf(Locale.ROOT, "bench data: %s, Java %s, T=%d%n", report.dateAndMachine(),
                System.getProperty("java.version"), blockSize);
        Path corpus = corpus();
        long rawBytes = textBytes(corpus);
        long gzBytes;
        try (Stream<Path> s = Files.list(corpus)) {
            gzBytes = s.mapToLong(p -> p.toFile().length()).sum();
        }
        out.printf(Locale.ROOT, "corpus: %s, %.1f MB of text in %.1f MB of gzip files%n", corpus, rawBytes / 1e6,
                gzBytes / 1e6);
        Tokenizer tok = tokenizer();
        out.printf(Locale.ROOT, "tokenizer: %,d ids, fingerprint %s%n", tok.vocabSize(),
                tok.fingerprint().substring(0, 16));
        out.flush();

        SourceSpec spec = SourceSpec.textFiles(List.of(corpus.toString()));
        List<Integer> threadCounts = skipOneThread || cores == 1 ? List.of(cores) : List.of(1, cores);
        String sample = sampleText();
        // Warm the tokenizer's pre-token cache and the JIT once, so neither the first run nor the peer pays for it.
        tok.encode(sample);
        for (int threads : threadCounts) {
            // peer: the tokenizer alone, same thread count, on ~20 MB of the same text already in memory
            List<String> chunks = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                chunks.add(sample);
            }
            long t0 = System.nanoTime();
            long c0 = cpuNanos();
            long peerTokens = 0;
            if (threads == 1) {
                for (String c : chunks) {
                    peerTokens += tok.encode(c).length;
                }
            } else {
                for (int[] ids : tok.encodeBatch(chunks)) {
                    peerTokens += ids.length;
                }
            }
            double peerS = (System.nanoTime() - t0) / 1e9;
            double peerCpu = (cpuNanos() - c0) / 1e9;
            long peerBytes = 20L * sample.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;

            StreamingConfig cfg = StreamingConfig.training(blockSize, Split.none()).withThreads(threads)
                    .withCycle(false);
            long start = System.nanoTime();
            long cpu0 = cpuNanos();
            long windows = 0;
            long tokens;
            try (StreamingLoader loader = StreamingLoader.open(spec, tok, cfg, LoaderState.initial(1))) {
                while (loader.hasNext()) {
                    loader.next();
                    windows++;
                }
                tokens = loader.tokensRead();
            }
            double s = (System.nanoTime() - start) / 1e9;
            double cpu = (cpuNanos() - cpu0) / 1e9;
            // MB per CPU-second is the per-core rate whatever else runs on the machine; wall-clock rates fall with
            // load
            out.printf(Locale.ROOT, "streaming, %d thread%s: %.1f MB in %.1f s = %.2f MB/s, %.2f M tokens/s, "
                            + "%,d windows; %.1f CPU-s = %.2f MB per CPU-second | peer, tokenizer alone in memory: "
                            + "%.2f MB/s, %.2f M tokens/s, %.2f MB per CPU-second%n",
                    threads, threads == 1 ? "" : "s", rawBytes / 1e6, s, rawBytes / 1e6 / s, tokens / 1e6 / s,
                    windows, cpu, rawBytes / 1e6 / cpu, peerBytes / 1e6 / peerS, peerTokens / 1e6 / peerS,
                    peerBytes / 1e6 / peerCpu);
            out.flush();
        }

        Path shards = work.resolve("shards");
        long start = System.nanoTime();
        long prepCpu0 = cpuNanos();
        ShardWriter.prepare(spec, tok, PrepareConfig.defaults(Split.byHash(0.005)).withOverwrite(true), shards,
                (a, b, c) -> { }, new DataReport());
        double prepS = (System.nanoTime() - start) / 1e9;
        double prepCpu = (cpuNanos() - prepCpu0) / 1e9;
        try (ShardDataset ds = ShardDataset.open(shards, tok)) {
            long n = ds.tokens(Split.Part.TRAIN);
            out.printf(Locale.ROOT, "prepare, %d threads: %,d train tokens in %.1f s = %.2f MB/s, %.2f M tokens/s; "
                    + "%.2f MB per CPU-second%n", cores, n, prepS, rawBytes / 1e6 / prepS, n / 1e6 / prepS,
                    rawBytes / 1e6 / prepCpu);
            double random = rate(ds.sampler(Split.Part.TRAIN, blockSize, LoaderState.initial(7)));
            double sequential = rate(ds.sequential(Split.Part.TRAIN, blockSize, true, LoaderState.initial(7)));
            // peer: the same random windows copied out of an int[] on the heap (no mapping, no uint16 widening)
            int len = (int) Math.min(n, 50_000_000L);
            int[] heap = ds.sequential(Split.Part.TRAIN, len - 1, false, LoaderState.initial(0)).next();
            // the training loop's in-memory random windows (train's TokenWindows) over that array
            double peer = rate(TokenWindows.random(heap, blockSize, LoaderState.initial(7)));
            out.printf(Locale.ROOT, "shards, 1 thread: random windows %.1f M tokens/s, in-order windows %.1f M "
                    + "tokens/s | peer, random windows copied from an int[] on the heap: %.1f M tokens/s%n",
                    random / 1e6, sequential / 1e6, peer / 1e6);
        }
        out.printf("load average at end %s (above the core count, other work shared the CPU and the figures are "
                + "low)%n", report.machine.loadAverageText());
        out.flush();
        return 0;
    }

    /** CPU time of this process (all threads, including GC and JIT). */
    private long cpuNanos() {
        return report.machine.processCpu().toNanos();
    }

    /**
     * Tokens per second drawn through {@code next(16)} batches for {@link #sampleSeconds} after a warm-up of at most
     * one second.
     */
    private double rate(WindowSource src) throws IOException {
        long sink = 0;
        long warmUp = (long) (Math.min(1, sampleSeconds) * 1e9);
        for (long end = System.nanoTime() + warmUp; System.nanoTime() < end; ) {
            sink += src.next(16)[0][0];
        }
        long tokens = 0;
        long start = System.nanoTime();
        long end = start + (long) (sampleSeconds * 1e9);
        while (System.nanoTime() < end) {
            int[][] b = src.next(16);
            sink += b[15][blockSize];
            tokens += 16L * blockSize;
        }
        double s = (System.nanoTime() - start) / 1e9;
        src.close();
        if (sink == 42) {
            out.print(""); // keeps the reads alive
        }
        return tokens / s;
    }

    private Path corpus() throws IOException {
        Path dir = work.resolve("corpus-" + corpusMb + "mb");
        if (Files.isDirectory(dir) && Files.exists(dir.resolve(".complete"))) {
            return dir;
        }
        if (!Files.isDirectory(source)) {
            throw new IllegalArgumentException("--source " + source + " is not a folder: point it at a folder of "
                    + ".txt novels (the project's: ../shared/data/austen)");
        }
        List<Path> novels;
        try (Stream<Path> s = Files.list(source)) {
            novels = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        if (novels.isEmpty()) {
            throw new IllegalArgumentException("--source " + source + " has no .txt files: point it at a folder of "
                    + ".txt novels (the project's: ../shared/data/austen)");
        }
        Path tmp = work.resolve("corpus-" + corpusMb + "mb.tmp");
        AtomicFiles.deleteRecursively(tmp); // a run stopped while writing it
        Files.createDirectories(tmp);
        long written = 0;
        for (int copy = 0; written < corpusMb * 1_000_000L; copy++) {
            for (Path n : novels) {
                byte[] text = Files.readAllBytes(n);
                Path gz = tmp.resolve(String.format("%03d-%s.gz", copy, n.getFileName()));
                try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz), 1 << 16)) {
                    o.write(text);
                }
                written += text.length;
            }
        }
        Files.writeString(tmp.resolve(".complete"), Long.toString(written));
        Files.move(tmp, dir);
        return dir;
    }

    /** Uncompressed bytes of the generated corpus, recorded when it was written. */
    private static long textBytes(Path corpus) throws IOException {
        return Long.parseLong(Files.readString(corpus.resolve(".complete")).trim());
    }

    private String sampleText() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> s = Files.list(source)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".txt")).sorted().toList()) {
                sb.append(Files.readString(p));
                if (sb.length() >= 1_000_000) {
                    break;
                }
            }
        }
        return sb.toString();
    }

    private Tokenizer tokenizer() throws IOException {
        if (tokenizerFile != null) {
            return TokenizerFiles.load(tokenizerFile);
        }
        Path saved = work.resolve("austen-bpe-8192.json");
        if (Files.exists(saved)) {
            return TokenizerFiles.load(saved);
        }
        List<Path> novels;
        try (Stream<Path> s = Files.list(source)) {
            novels = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        long t0 = System.nanoTime();
        BpeTokenizer t = new BpeTrainer(BpeTrainerConfig.gpt2(8192)).train(novels).tokenizer();
        t.save(saved);
        out.printf(Locale.ROOT, "trained a BPE tokenizer (vocabulary 8192) on %s in %.1f s -> %s%n", source,
                (System.nanoTime() - t0) / 1e9, saved);
        return t;
    }
}
