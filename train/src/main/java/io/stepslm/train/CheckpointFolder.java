package io.stepslm.train;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelFiles;
import io.stepslm.tokenizer.Tokenizer;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The content of one training checkpoint folder, everything a resumed run needs:
 * <pre>
 *   model/              weights and model config (lm-model's {@link ModelFiles} format)
 *   tokenizer.json      the tokenizer, so that eval and generation need nothing else
 *   train-config.json   the resolved {@link TrainConfig}
 *   train-state.json    {@link TrainState}: step, loss scale, data-loader position, best validation loss, ...
 *   optimizer.json      AdamW step count and the parameter order of the moments
 *   optimizer.ndlist    AdamW first then second moments (DJL NDList encoding, FP32)
 *   metrics.jsonl       the metrics up to this step
 * </pre>
 * The folder is written into a temporary name and renamed by {@link RunFolder}.
 */
public final class CheckpointFolder {

    public static final String MODEL = "model";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TRAIN_CONFIG = "train-config.json";
    public static final String OPTIMIZER_JSON = "optimizer.json";
    public static final String OPTIMIZER_TENSORS = "optimizer.ndlist";

    private CheckpointFolder() {}

    static void write(Path folder, LanguageModel model, Tokenizer tokenizer, TrainConfig config, AdamW optimizer,
                      List<String> names, TrainState state, List<String> metricsLines) throws IOException {
        ModelFiles.save(folder.resolve(MODEL), model);
        tokenizer.save(folder.resolve(TOKENIZER));
        Files.writeString(folder.resolve(TRAIN_CONFIG), config.toJson(), StandardCharsets.UTF_8);
        JsonObject opt = new JsonObject();
        opt.addProperty("steps", optimizer.steps());
        JsonArray order = new JsonArray();
        names.forEach(order::add);
        opt.add("parameters", order);
        Files.writeString(folder.resolve(OPTIMIZER_JSON), new Gson().toJson(opt), StandardCharsets.UTF_8);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(folder.resolve(OPTIMIZER_TENSORS)),
                1 << 20)) {
            optimizer.moments().encode(out);
        }
        Files.write(folder.resolve(Metrics.FILE), metricsLines, StandardCharsets.UTF_8);
        state.write(folder); // last: a folder with train-state.json is complete (it is renamed into place anyway)
    }

    static void restoreOptimizer(Path folder, AdamW optimizer, List<String> names, NDManager manager)
            throws IOException {
        JsonObject opt;
        try {
            String json = Files.readString(folder.resolve(OPTIMIZER_JSON), StandardCharsets.UTF_8);
            opt = JsonParser.parseString(json).getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new IOException("the checkpoint " + folder + " has no optimizer state (" + OPTIMIZER_JSON
                    + "): it cannot be resumed, only evaluated or used to start a new run", e);
        }
        JsonArray saved = opt.getAsJsonArray("parameters");
        for (int i = 0; i < Math.max(saved.size(), names.size()); i++) {
            String s = i < saved.size() ? saved.get(i).getAsString() : "(none)";
            String n = i < names.size() ? names.get(i) : "(none)";
            if (!s.equals(n)) {
                throw new IllegalArgumentException("the checkpoint's optimizer state does not match the model: "
                        + "parameter " + i + " is " + s + " in the checkpoint but " + n
                        + " in the model; resume with the checkpoint's own model config");
            }
        }
        Path tensors = folder.resolve(OPTIMIZER_TENSORS);
        try (NDManager scratch = manager.newSubManager();
             InputStream in = new BufferedInputStream(Files.newInputStream(tensors), 1 << 20)) {
            NDList moments;
            try {
                moments = NDList.decode(scratch, in);
            } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException
                     | IndexOutOfBoundsException e) {
                // DJL says only "Malformed data" (or reads past the end): name the file and what to do instead
                throw new IOException(tensors + " is truncated or corrupt (" + Files.size(tensors) + " bytes), so this "
                        + "checkpoint cannot be resumed: resume from another checkpoint folder with --resume "
                        + folder.resolveSibling("step-N") + ", or evaluate this one (its model is separate)", e);
            }
            optimizer.restore(moments, opt.get("steps").getAsLong());
        }
    }

    /** The metrics stored with a checkpoint. */
    static List<String> metricsLines(Path folder) throws IOException {
        Path file = folder.resolve(Metrics.FILE);
        return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    /** The resolved training config stored with a checkpoint. */
    public static TrainConfig config(Path folder) throws IOException {
        Path file = folder.resolve(TRAIN_CONFIG);
        if (!Files.exists(file)) {
            throw new IOException("not a training checkpoint: " + file
                    + " is missing (pass a folder written by 'stepslm train')");
        }
        return TrainConfig.fromJson(Files.readString(file, StandardCharsets.UTF_8));
    }
}
