package io.stepslm.cli;

import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.datasets.Document;
import io.stepslm.datasets.DocumentIds;
import io.stepslm.datasets.Documents;
import io.stepslm.datasets.SourceSpec;
import io.stepslm.experiment.Diagnosis;
import io.stepslm.model.LanguageModel;
import io.stepslm.train.RunFolder;
import io.stepslm.train.Perplexity;
import io.stepslm.train.TokenCorpus;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.CheckpointFolder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stepslm diagnose}: StepsNet's diagnostics of a checkpoint (shortcut ratio, masking, step ablation). */
@Command(
        name = "diagnose",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"The shortcut ratio std(z_0)/std(z_l) after every block against normalised depth (over the",
                "slice a block processes and over the full width), at initialisation (same architecture and seed)",
                "and now; the channel-masking probe (loss with the first vs the last k embedding channels zeroed);",
                "and the per-step ablation (one step's blocks skipped). A table here, diagnosis.json and",
                "shortcut-ratio.png in --out."},
        footer = {"", "Examples:",
                "  stepslm diagnose --checkpoint runs/demo",
                "  stepslm diagnose --checkpoint runs/a/checkpoints/step-002000 ../shared/data/austen/persuasion.txt",
                "  stepslm diagnose --checkpoint runs/a --mask 16,32,64 --batches 8 --out diag/a"})
public final class DiagnoseCommand implements Callable<Integer> {

    @Mixin
    TrainedModel.Options run;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "Validation text files or folders (default: the "
            + "last 10 % of the built-in corpus, the demo's validation split).")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--context", description = "Window length (default: the model's context length).")
    Integer context;

    @Option(names = "--batch-size", description = "Windows per batch (default: ${DEFAULT-VALUE}).")
    int batchSize = 8;

    @Option(names = "--batches", description = "Batches for the losses; the ratios use the first "
            + "(default: ${DEFAULT-VALUE}).")
    int batches = 4;

    @Option(names = "--mask", split = ",", paramLabel = "K", description = "Channel counts to mask (default: an "
            + "eighth, a quarter and a half of the width).")
    List<Integer> mask = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "Folder for diagnosis.json and shortcut-ratio.png "
            + "(default: diagnose-<checkpoint> in the run folder).")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintStream log = System.out;
        if (batchSize < 1 || batches < 1) {
            throw new IllegalArgumentException("--batch-size " + batchSize + " and --batches " + batches
                    + " must be at least 1");
        }
        try (TrainedModel loaded = TrainedModel.open(run, 0)) {
            LanguageModel model = loaded.model;
            long seed = CheckpointFolder.config(loaded.dir).seed();
            int ctx = context == null ? model.config().contextLength() : context;
            int[] ids;
            if (inputs.isEmpty()) {
                ids = TokenCorpus.split(List.of(new Document(BuiltinCorpus.NAME, BuiltinCorpus.text())).iterator(),
                        loaded.tokenizer, 0.1).validation();
            } else {
                try (Documents docs = Documents.open(SourceSpec.textFiles(inputs))) {
                    ids = DocumentIds.join(docs, loaded.tokenizer);
                }
            }
            List<int[][]> windows = new ArrayList<>();
            try (TokenWindows w = TokenWindows.sequential(ids, ctx)) {
                for (int b = 0; b < batches && w.hasNext(); b++) {
                    int[][] batch = w.next(batchSize);
                    if (batch.length == batchSize || windows.isEmpty()) {
                        windows.add(batch);
                    }
                }
            }
            int[] k = mask.isEmpty() ? Diagnosis.defaultMaskChannels(model.config())
                    : mask.stream().mapToInt(Integer::intValue).toArray();
            Diagnosis d;
            try (LanguageModel init = LanguageModel.create(model.config(), model.runtime().withSeed(seed))) {
                d = Diagnosis.of(model, init, windows, k);
            }
            log.printf("checkpoint %s, %d batch(es) of %d windows of %d tokens%n", loaded.dir, windows.size(),
                    windows.get(0).length, ctx);
            d.print(log);
            Path dir = out != null ? out : defaultOut(loaded.dir);
            d.write(dir, loaded.dir.getFileName().toString());
            log.println("wrote " + dir.resolve("diagnosis.json") + " and " + dir.resolve("shortcut-ratio.png"));
        }
        return 0;
    }

    /** {@code <run>/diagnose-<checkpoint>} for a checkpoint of a run folder, else {@code <checkpoint>/diagnose}. */
    static Path defaultOut(Path checkpoint) {
        Path parent = checkpoint.toAbsolutePath().getParent();
        if (parent != null && parent.getFileName().toString().equals(RunFolder.CHECKPOINTS)
                && parent.getParent() != null) {
            return parent.getParent().resolve("diagnose-" + checkpoint.getFileName());
        }
        return checkpoint.resolve("diagnose");
    }
}
