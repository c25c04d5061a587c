package io.stepslm.cli;

import ai.djl.Device;
import io.stepslm.machine.CpuThreads;
import io.stepslm.machine.GpuFacts;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelFiles;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import io.stepslm.train.CheckpointFolder;
import io.stepslm.train.RunFolder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * A trained checkpoint opened for inference (eval, generate): its tokenizer and model on the chosen device, with
 * the chosen kernels and CPU threads. The options are a picocli mixin ({@code @Mixin TrainedModel.Options}) so
 * every inference command spells them the same way.
 */
final class TrainedModel implements AutoCloseable {

    /** Where and how to run a checkpoint. */
    static final class Options {
        @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
                description = "A checkpoint folder, or a run folder (its best/ checkpoint, else the newest).")
        Path checkpoint;

        @Option(names = "--device", description = "cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
        String device = "cpu";

        @Option(names = "--threads", description = "CPU threads for libtorch (default: 1 for generate, all cores "
                + "for eval; 1 is fastest for tiny models).")
        Integer threads;

        @Option(names = "--kernels", description = "fused or reference (default: ${DEFAULT-VALUE}).")
        String kernels = "fused";
    }

    final Path dir;
    final Tokenizer tokenizer;
    final LanguageModel model;
    private final ModelRuntime runtime;

    private TrainedModel(Path dir, Tokenizer tokenizer, LanguageModel model, ModelRuntime runtime) {
        this.dir = dir;
        this.tokenizer = tokenizer;
        this.model = model;
        this.runtime = runtime;
    }

    /**
     * Opens the checkpoint of {@code options}; {@code defaultThreads} applies when --threads is not given (0 = leave
     * libtorch's count). The seed drives nothing but dropout, which inference never runs.
     */
    static TrainedModel open(Options options, int defaultThreads) throws IOException {
        Path dir = RunFolder.resolveForInference(options.checkpoint, System.err::println); // stdout may be --json
        new CpuThreads(options.threads == null ? defaultThreads : options.threads).apply();
        Tokenizer tokenizer = TokenizerFiles.load(dir.resolve(CheckpointFolder.TOKENIZER));
        Device device = TrainCommand.parseDevice(options.device);
        ModelRuntime runtime = ModelRuntime.open(device, KernelChoice.parse(options.kernels), Precision.FP32, 0);
        try {
            runtime.kernelFallback().ifPresent(reason -> System.err.println("stepslm: " + reason));
            if (device.isGpu()) {
                GpuFacts.probe().report(List.of(device.getDeviceId()), Precision.FP32.id(), runtime.kernels().name())
                        .forEach(line -> System.err.println("stepslm: " + line));
            }
            LanguageModel model = ModelFiles.load(dir.resolve(CheckpointFolder.MODEL), runtime);
            if (tokenizer.vocabSize() > model.config().vocabSize()) {
                model.close();
                throw new IllegalArgumentException("the tokenizer in " + dir + " has " + tokenizer.vocabSize()
                        + " ids but the model only " + model.config().vocabSize() + ": the checkpoint is inconsistent");
            }
            return new TrainedModel(dir, tokenizer, model, runtime);
        } catch (IOException | RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    @Override
    public void close() {
        model.close();
        runtime.close();
    }
}
