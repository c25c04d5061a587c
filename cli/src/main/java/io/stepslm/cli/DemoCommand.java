package io.stepslm.cli;

import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.tokenizer.BpeTokenizer;
import io.stepslm.tokenizer.BpeTrainer;
import io.stepslm.tokenizer.BpeTrainerConfig;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stepslm demo}: the main job on the built-in corpus; for now, train a BPE tokenizer and print its stats. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {"Train a byte-level BPE tokenizer on the built-in corpus (Austen's Pride and Prejudice) and print",
                "vocabulary, merges, time, compression (bytes/token) and a round-trip check."},
        footer = {"", "Examples:", "  stepslm demo", "  stepslm demo --vocab-size 4096 --out runs/demo/tokenizer.json"})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--vocab-size", defaultValue = "2048", description = "BPE vocabulary size (default: ${DEFAULT-VALUE}).")
    int vocabSize;

    @Option(names = "--out", paramLabel = "FILE", description = "Also save the tokenizer here.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        String text = BuiltinCorpus.text();
        BpeTrainerConfig config = BpeTrainerConfig.gpt2(vocabSize);
        w.printf("demo: training %s on %s (%,d characters)%n", config, BuiltinCorpus.NAME, text.length());
        w.flush();
        long start = System.nanoTime();
        BpeTrainer.Result r = new BpeTrainer(config).train(List.of(text).iterator());
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        BpeTokenizer t = r.tokenizer();
        long encStart = System.nanoTime();
        int[] ids = t.encode(text);
        double encSeconds = (System.nanoTime() - encStart) / 1e9;
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        boolean roundTrip = t.decode(ids).equals(text);
        w.printf(Locale.ROOT, "vocabulary %,d ids = 256 bytes + %,d merges + 1 special; trained in %.2f s%n",
                t.vocabSize(), t.mergeCount(), trainSeconds);
        w.printf(Locale.ROOT, "encoded %,d bytes -> %,d tokens (%.2f bytes/token) in %.2f s%n", bytes, ids.length,
                (double) bytes / ids.length, encSeconds);
        String sample = text.substring(text.indexOf("It is a truth"), text.indexOf("It is a truth") + 60);
        int[] sampleIds = t.encode(sample);
        w.println("sample: " + sample.replace("\n", " "));
        w.println("  ids:  " + Arrays.toString(sampleIds));
        w.println("  pieces: " + Arrays.stream(sampleIds).mapToObj(id -> "[" + t.decode(new int[] {id}) + "]")
                .reduce("", String::concat).replace("\n", "\\n"));
        w.println("round trip decode(encode(text)) == text: " + (roundTrip ? "yes" : "NO"));
        if (out != null) {
            t.save(out);
            w.println("saved " + out);
        }
        w.flush();
        return roundTrip ? 0 : 1;
    }
}
