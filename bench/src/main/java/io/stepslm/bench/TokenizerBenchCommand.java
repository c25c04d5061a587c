package io.stepslm.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.files.AtomicFiles;
import io.stepslm.machine.Machine;
import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import io.stepslm.tokenizer.SplitPattern;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stepslm bench tokenizer}: BPE training time next to HuggingFace tokenizers' Rust trainer (npm
 * {@code tokenizers} 0.23.2 through {@code bench/tokenizer/hf_train.js}) on the same single file in the same run,
 * and encoding throughput (1 thread, all threads) next to djl-tokenizers' {@link HuggingFaceTokenizer} on the same
 * text with the same tokenizer.json. Encoding is timed on fresh tokenizer instances, so our pre-token cache starts
 * empty (a warm-cache pass is printed separately); ids are checked to be identical.
 */
@Command(
        name = "tokenizer",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Tokenizer training time vs HuggingFace tokenizers (npm 0.23.2, node's train(files): 30,000",
                "vocab, byte-level, min frequency 0) and encoding MB/s vs djl HuggingFaceTokenizer, on one",
                "concatenated file. The HF training peer needs node and `npm install tokenizers@0.23.2` in",
                "bench/tokenizer (bench/tokenizer.sh does it)."},
        footer = {"", "Examples:",
                "  bench/tokenizer.sh",
                "  stepslm bench tokenizer --input ../shared/data/austen --repeats 3",
                "  stepslm bench tokenizer --input big.txt --vocab-size 50000 --no-hf-train"})
public final class TokenizerBenchCommand implements Callable<Integer> {

    /** How long one run of the node training script may take before it is stopped. */
    private static final Duration HF_TIMEOUT = Duration.ofMinutes(10);

    @Option(names = "--input", arity = "1..*", paramLabel = "PATH", required = true,
            description = "Text files/folders, concatenated into one file (the project's benchmark corpus: the six "
                    + "Austen novels in ../shared/data/austen, which bench/tokenizer.sh passes).")
    List<Path> inputs;

    @Option(names = "--vocab-size", defaultValue = "30000",
            description = "Vocabulary size (default: ${DEFAULT-VALUE}, HF node's default).")
    int vocabSize;

    @Option(names = "--repeats", defaultValue = "3",
            description = "Timed runs of each measurement; best and median are shown (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--hf-script", defaultValue = "bench/tokenizer/hf_train.js", paramLabel = "FILE",
            description = "The node training script (default: ${DEFAULT-VALUE}).")
    Path hfScript;

    @Option(names = "--no-hf-train", description = "Skip the node training peer.")
    boolean noHfTrain;

    @Mixin
    BenchReport report;

    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = report.out();
        if (repeats < 1) {
            throw new IllegalArgumentException("--repeats " + repeats + " must be at least 1");
        }
        Path dir = Files.createTempDirectory("stepslm-bench-tokenizer");
        try {
            return run(dir);
        } finally {
            AtomicFiles.deleteRecursively(dir);
        }
    }

    private int run(Path dir) throws Exception {
        // one file, as HF's train(files) is given
        Path corpus = dir.resolve("corpus.txt");
        List<Path> files = new ArrayList<>();
        for (Path in : inputs) {
            if (!Files.exists(in)) {
                throw new IOException("--input " + in + " does not exist: pass the benchmark corpus (e.g. "
                        + "../shared/data/austen)");
            }
            try (var walk = Files.walk(in)) {
                walk.filter(Files::isRegularFile).sorted().forEach(files::add);
            }
        }
        try (var os = Files.newOutputStream(corpus)) {
            for (Path f : files) {
                os.write(Files.readAllBytes(f));
            }
        }
        byte[] bytes = Files.readAllBytes(corpus);
        String text = new String(bytes, StandardCharsets.UTF_8);
        out.printf(Locale.ROOT, "stepslm bench tokenizer, %s, java %s%n", report.dateAndMachine(),
                System.getProperty("java.version"));
        out.printf(Locale.ROOT, "corpus: %d files concatenated, %,d bytes%n%n", files.size(), bytes.length);
        out.flush();

        // ---- training ----
        BpeTrainerConfig config = new BpeTrainerConfig(vocabSize, 0, List.of(), SplitPattern.GPT2);
        out.printf(Locale.ROOT, "training: vocab %,d, byte-level GPT-2 split, min frequency 0, no special tokens; "
                + "%d runs%n", vocabSize, repeats);
        new BpeTrainer(config).train(List.of(corpus)); // JIT warm-up, not timed
        double[] ours = new double[repeats];
        BpeTokenizer trained = null;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            BpeTrainer.Result r = new BpeTrainer(config).train(List.of(corpus));
            ours[i] = (System.nanoTime() - t0) / 1e9;
            trained = r.tokenizer();
        }
        out.printf(Locale.ROOT, "  stepslm BpeTrainer          best %6.2f s  median %6.2f s  vocab %,d%n", min(ours),
                median(ours), trained.vocabSize());
        out.flush();
        double[] hf = noHfTrain ? null : hfTrain(corpus);
        if (hf != null) {
            double[] hfTimes = Arrays.copyOf(hf, repeats);
            out.printf(Locale.ROOT, "  HF tokenizers 0.23.2 (node)  best %6.2f s  median %6.2f s  vocab %,d%n",
                    min(hfTimes), median(hfTimes), (int) hf[repeats]);
            out.printf(Locale.ROOT, "  ratio stepslm / HF           best %.2fx  median %.2fx  (target <= 1.0x)%n",
                    min(ours) / min(hfTimes), median(ours) / median(hfTimes));
        }
        out.println();

        // ---- encoding ----
        Path json = dir.resolve("tokenizer.json");
        trained.save(json);
        List<String> paragraphs = Arrays.asList(text.split("(?<=\n\n)"));
        int threads = Runtime.getRuntime().availableProcessors();
        out.printf(Locale.ROOT, "encoding: the %,d-id tokenizer above, %,d paragraphs, fresh instance (empty cache) "
                + "per run%n", trained.vocabSize(), paragraphs.size());
        warmUp(json, paragraphs);
        double[] one = new double[repeats];
        double[] oneCpu = new double[repeats];
        double[] all = new double[repeats];
        double[] warm = new double[repeats];
        int[][] ourIds = null;
        for (int i = 0; i < repeats; i++) {
            BpeTokenizer t = TokenizerFiles.loadBpe(json);
            long c0 = Machine.threadCpuNanos();
            long t0 = System.nanoTime();
            int[][] ids = t.encodeBatch(paragraphs, 1);
            one[i] = (System.nanoTime() - t0) / 1e9;
            oneCpu[i] = (Machine.threadCpuNanos() - c0) / 1e9;
            long t1 = System.nanoTime();
            t.encodeBatch(paragraphs, 1);
            warm[i] = (System.nanoTime() - t1) / 1e9;
            BpeTokenizer fresh = TokenizerFiles.loadBpe(json);
            long t2 = System.nanoTime();
            ourIds = fresh.encodeBatch(paragraphs, threads);
            all[i] = (System.nanoTime() - t2) / 1e9;
            if (!Arrays.deepEquals(ids, ourIds)) {
                throw new IllegalStateException("1-thread and " + threads + "-thread encodings differ");
            }
        }
        double mb = bytes.length / 1e6;
        out.printf(Locale.ROOT, "  stepslm 1 thread             %7.1f MB/s (best; median %.1f)  warm cache %.1f MB/s%n",
                mb / min(one), mb / median(one), mb / min(warm));
        out.printf(Locale.ROOT, "  stepslm 1 thread, per CPU-second of the encoding thread %6.1f MB/s (best; less "
                + "sensitive to other load)%n", mb / min(oneCpu));
        out.printf(Locale.ROOT, "  stepslm %d threads            %7.1f MB/s (best; median %.1f)%n", threads,
                mb / min(all), mb / median(all));
        out.flush();
        try (HuggingFaceTokenizer hfTok = HuggingFaceTokenizer.builder().optTokenizerPath(json).optTruncation(false)
                .optPadding(false).optAddSpecialTokens(false).build()) {
            hfTok.batchEncode(paragraphs.subList(0, Math.min(200, paragraphs.size()))); // warm-up
            double[] hfOne = new double[repeats];
            double[] hfAll = new double[repeats];
            double[] hfOneCpu = new double[repeats];
            Encoding[] batch = null;
            for (int i = 0; i < repeats; i++) {
                long c0 = Machine.threadCpuNanos();
                long t0 = System.nanoTime();
                for (String p : paragraphs) {
                    hfTok.encode(p);
                }
                hfOne[i] = (System.nanoTime() - t0) / 1e9;
                hfOneCpu[i] = (Machine.threadCpuNanos() - c0) / 1e9;
                long t1 = System.nanoTime();
                batch = hfTok.batchEncode(paragraphs);
                hfAll[i] = (System.nanoTime() - t1) / 1e9;
            }
            out.printf(Locale.ROOT, "  djl HF encode() loop          %7.1f MB/s (best; median %.1f)%n",
                    mb / min(hfOne), mb / median(hfOne));
            out.printf(Locale.ROOT, "  djl HF encode() loop, per CPU-second of the calling thread %6.1f MB/s (best)%n",
                    mb / min(hfOneCpu));
            out.printf(Locale.ROOT, "  djl HF batchEncode()          %7.1f MB/s (best; median %.1f)%n",
                    mb / min(hfAll), mb / median(hfAll));
            boolean same = true;
            for (int i = 0; i < paragraphs.size() && same; i++) {
                int[] hfIds = Arrays.stream(batch[i].getIds()).mapToInt(Math::toIntExact).toArray();
                same = Arrays.equals(hfIds, ourIds[i]);
            }
            out.println("  ids identical to HF on every paragraph: " + (same ? "yes" : "NO"));
            out.println("load average at the end: " + report.machine.loadAverageText()
                    + " (other processes share these cores; wall-clock figures include their effect)");
            out.flush();
            return same ? 0 : 1;
        }
    }

    private static void warmUp(Path json, List<String> paragraphs) throws IOException {
        BpeTokenizer t = TokenizerFiles.loadBpe(json);
        t.encodeBatch(paragraphs, 1);
        TokenizerFiles.loadBpe(json).encodeBatch(paragraphs, Runtime.getRuntime().availableProcessors());
    }

    /** Runs the node script {@code repeats} times; the result holds the times, then the vocabulary size. */
    private double[] hfTrain(Path corpus) throws Exception {
        Path modules = hfScript.toAbsolutePath().getParent().resolve("node_modules/tokenizers");
        if (!Files.isRegularFile(hfScript) || !Files.isDirectory(modules)) {
            out.println("  HF tokenizers (node): skipped, " + hfScript + " or " + modules
                    + " is missing: run bench/tokenizer.sh from the project root (it installs tokenizers@0.23.2)");
            return null;
        }
        double[] r = new double[repeats + 1];
        List<String> command = List.of("node", hfScript.toString(), corpus.toString());
        for (int i = 0; i < repeats; i++) {
            PeerProcess.Result run = PeerProcess.run(command, Map.of(), HF_TIMEOUT);
            String last = run.output().strip().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse("");
            if (run.exitCode() != 0 || last.isEmpty()) {
                throw new IOException("the HF training script " + hfScript + " failed (exit " + run.exitCode()
                        + "): fix the node setup (bench/tokenizer.sh) or pass --no-hf-train; its output:\n"
                        + run.output());
            }
            JsonObject o = JsonParser.parseString(last).getAsJsonObject();
            r[i] = o.get("trainMillis").getAsDouble() / 1e3;
            r[repeats] = o.get("vocabSize").getAsInt();
        }
        return r;
    }

    private static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
