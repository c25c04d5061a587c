package io.stepslm.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Everything besides tensors that a resumed run needs to continue exactly, stored as readable JSON in each
 * checkpoint. There is no random-generator state to save: parameters come from the seed, the data order from the
 * loader state, and dropout is reseeded from (seed, step) at every step, so the step number is the RNG state.
 *
 * @param step optimizer steps completed
 * @param tokensSeen training tokens consumed
 * @param lossScaler {@link LossScaler#state()}
 * @param loader the training loader's {@code LoaderState} JSON
 * @param bestValLoss best validation loss so far (+inf before the first evaluation)
 * @param bestStep step of that evaluation
 * @param evalsWithoutImprovement evaluations since the best one (early stopping)
 * @param tokenizerFingerprint fingerprint of the tokenizer the data was encoded with
 * @param elapsedSeconds wall time spent training before this checkpoint
 */
public record TrainState(long step, long tokensSeen, double[] lossScaler, String loader, double bestValLoss,
                         long bestStep, int evalsWithoutImprovement, String tokenizerFingerprint,
                         double elapsedSeconds) {

    public static final String FILE = "train-state.json";

    // serializeSpecialFloatingPointValues: bestValLoss is +Infinity before the first evaluation
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .create();

    /** Before the first step of a new run: no evaluation yet, the loader at its start (empty loader state). */
    public static TrainState start(String tokenizerFingerprint, double[] lossScaler) {
        return new TrainState(0, 0, lossScaler, "", Double.POSITIVE_INFINITY, -1, 0, tokenizerFingerprint, 0);
    }

    /** After one more optimizer step that consumed {@code tokens} in {@code seconds}. */
    public TrainState advanced(long tokens, double seconds) {
        return new TrainState(step + 1, tokensSeen + tokens, lossScaler, loader, bestValLoss, bestStep,
                evalsWithoutImprovement, tokenizerFingerprint, elapsedSeconds + seconds);
    }

    /** After an evaluation at this step: a new best, or one more evaluation without improvement. */
    public TrainState evaluated(double valLoss) {
        boolean improved = valLoss < bestValLoss;
        return new TrainState(step, tokensSeen, lossScaler, loader, improved ? valLoss : bestValLoss,
                improved ? step : bestStep, improved ? 0 : evalsWithoutImprovement + 1, tokenizerFingerprint,
                elapsedSeconds);
    }

    /** Whether the last {@link #evaluated} one found a new best validation loss at this step. */
    public boolean bestIsCurrent() {
        return bestStep == step && evalsWithoutImprovement == 0;
    }

    /** With the positions a checkpoint stores: the loss scaler's state and the training loader's. */
    public TrainState at(double[] lossScalerState, String loaderState) {
        return new TrainState(step, tokensSeen, lossScalerState, loaderState, bestValLoss, bestStep,
                evalsWithoutImprovement, tokenizerFingerprint, elapsedSeconds);
    }

    public void write(Path folder) throws IOException {
        Files.writeString(folder.resolve(FILE), GSON.toJson(this), StandardCharsets.UTF_8);
    }

    public static TrainState read(Path folder) throws IOException {
        Path file = folder.resolve(FILE);
        try {
            TrainState s = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), TrainState.class);
            if (s == null || s.lossScaler == null || s.loader == null) {
                throw new JsonParseException("fields are missing");
            }
            return s;
        } catch (NoSuchFileException e) {
            throw new IOException("not a training checkpoint: " + file + " is missing (pass a folder written by "
                    + "'stepslm train')", e);
        } catch (JsonParseException e) {
            throw new IOException("the checkpoint file " + file + " is corrupt (" + e.getMessage()
                    + "): resume from an older checkpoint in the same run folder", e);
        }
    }
}
