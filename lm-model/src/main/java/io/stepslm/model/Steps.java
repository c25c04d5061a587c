package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

import java.util.List;
import java.util.Map;

/**
 * StepsNet's macro design (arXiv 2511.14329, Fig. 4; docs/design.md): the full-width embedding is
 * split along channels into one slice per step; step i concatenates its slice to the running state (no projection,
 * gate or norm at the boundary) and runs its own blocks at cumulative width C_i. The first channels are the slow
 * path through every step. A plain model is the 1-step case: no split, no concat, no extra native call.
 * Parameter names: {@code steps.<i>.blocks.<j>.*} (see {@link Block}).
 *
 * <p>Dimension legend: B batch, T positions, C full width, C_i width of step i.
 */
final class Steps {

    /** Diagnostics' view into and edits of the forward pass (eval only); {@link #NONE} for training and inference. */
    interface Probe {
        Probe NONE = new Probe() { };

        /** The full-width embedding x (B, T, C) before the split, possibly edited (channel masking). */
        default NDArray embedding(NDArray x) {
            return x;
        }

        /** Whether step i runs its blocks (false: its slice is only concatenated, as a step of depth 0). */
        default boolean runsStep(int step) {
            return true;
        }

        /** y (B, T, C_i) after block j of step i; x (B, T, C) the full-width embedding (z_0). */
        default void afterBlock(int step, int block, NDArray y, NDArray x) {
        }
    }

    private final long[] splitPoints; // C_1 .. C_{n-1}
    private final Block[][] blocks;

    Steps(Map<String, NDArray> params, ModelConfig config, ModelRuntime runtime, Rotary rotary) {
        List<ModelConfig.Step> steps = config.steps();
        this.splitPoints = new long[steps.size() - 1];
        this.blocks = new Block[steps.size()][];
        for (int i = 0; i < steps.size(); i++) {
            if (i < steps.size() - 1) {
                splitPoints[i] = steps.get(i).width();
            }
            blocks[i] = new Block[steps.get(i).depth()];
            for (int j = 0; j < blocks[i].length; j++) {
                blocks[i][j] = new Block(params, prefix(i, j), config.heads(i), config, runtime, rotary);
            }
        }
    }

    static String prefix(int step, int block) {
        return "steps." + step + ".blocks." + block;
    }

    /** x (B, T, C) -> (B, T, C). */
    NDArray forward(NDArray x, boolean training, Probe probe) {
        x = probe.embedding(x);
        NDList slices = splitPoints.length == 0 ? new NDList(x) : x.split(splitPoints, 2); // n x (B, T, d_i)
        NDArray y = slices.get(0); // (B, T, C_1)
        for (int i = 0; i < blocks.length; i++) {
            if (i > 0) {
                y = y.concat(slices.get(i), -1); // (B, T, C_i)
            }
            for (int j = 0; j < blocks[i].length && probe.runsStep(i); j++) {
                y = blocks[i][j].forward(y, training); // (B, T, C_i)
                probe.afterBlock(i, j, y, x);
            }
        }
        return y;
    }

    /**
     * Inference on the new positions x (B, T, C) of cache rows [row, row + B), all at position pos -> (B, T, C),
     * extending the cache of every block.
     */
    NDArray decode(NDArray x, KvCache cache, int row, int pos) {
        NDList slices = splitPoints.length == 0 ? new NDList(x) : x.split(splitPoints, 2); // n x (B, T, d_i)
        NDArray y = slices.get(0); // (B, T, C_1)
        int blockIndex = 0;
        for (int i = 0; i < blocks.length; i++) {
            if (i > 0) {
                y = y.concat(slices.get(i), -1); // (B, T, C_i)
            }
            for (Block block : blocks[i]) {
                y = block.decode(y, cache, blockIndex++, row, pos); // (B, T, C_i)
            }
        }
        return y;
    }
}
