package io.stepslm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stepslm.model.Kernels;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", 2019) with PyTorch's update rule, holding
 * its state (both moments and the step count) so that it can be saved and restored; DJL's built-in Adam keeps its
 * moments private, decays every parameter and zeroes gradients inside {@code update}. Weight decay applies only to
 * tensors of two or more dimensions, i.e. matrices and embeddings, never to norm weights or biases (nanoGPT
 * {@code configure_optimizers}). The update itself is a kernel ({@link Kernels#adamw}): the fused one reads every
 * tensor once in one native call per decay group, the reference one is DJL's Adam kernel per tensor.
 *
 * <pre>
 *   p <- p * (1 - lr * wd)                                   (decay group only)
 *   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
 *   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 */
public final class AdamW implements AutoCloseable {

    private final Kernels kernels;
    private final List<NDArray> weights;
    private final boolean[] decay;
    private final NDManager stateManager;
    private final List<NDArray> m = new ArrayList<>();
    private final List<NDArray> v = new ArrayList<>();
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    /** The decay group (matrices, embeddings) then the rest, fixed at construction; empty groups left out. */
    private final List<Group> groups = new ArrayList<>();
    private long step;

    /** Parameters updated by one kernel call: their indices, weights and moments, and their weight decay. */
    private record Group(int[] indices, List<NDArray> weights, List<NDArray> m, List<NDArray> v, double weightDecay) {
    }

    /** The moments live in a child of the first weight's manager, on the weights' devices, all zeros. */
    public AdamW(Kernels kernels, List<NDArray> weights, double beta1, double beta2, double epsilon,
                 double weightDecay) {
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("AdamW needs at least one parameter");
        }
        this.kernels = kernels;
        this.weights = List.copyOf(weights);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.stateManager = weights.get(0).getManager().newSubManager();
        this.decay = new boolean[weights.size()];
        for (int i = 0; i < weights.size(); i++) {
            NDArray w = weights.get(i);
            decay[i] = isDecayed(w.getShape());
            m.add(stateManager.zeros(w.getShape(), w.getDataType(), w.getDevice()));
            v.add(stateManager.zeros(w.getShape(), w.getDataType(), w.getDevice()));
        }
        for (boolean decayed : new boolean[] {true, false}) {
            int[] indices = IntStream.range(0, decay.length).filter(i -> decay[i] == decayed).toArray();
            if (indices.length > 0) {
                groups.add(new Group(indices, pick(this.weights, indices), pick(m, indices), pick(v, indices),
                        decayed ? weightDecay : 0));
            }
        }
    }

    /**
     * The weight-decay rule, the only one in the code base: tensors of two or more dimensions (matrices and
     * embeddings) are decayed, norm weights and biases are not (nanoGPT {@code configure_optimizers}).
     */
    static boolean isDecayed(Shape shape) {
        return shape.dimension() >= 2;
    }

    private static List<NDArray> pick(List<NDArray> all, int[] indices) {
        List<NDArray> out = new ArrayList<>(indices.length);
        for (int i : indices) {
            out.add(all.get(i));
        }
        return out;
    }

    public static AdamW of(Kernels kernels, List<NDArray> weights, TrainConfig c) {
        return new AdamW(kernels, weights, c.beta1(), c.beta2(), c.epsilon(), c.weightDecay());
    }

    /** Number of updates applied so far (t in the bias corrections). */
    public long steps() {
        return step;
    }

    /** Whether parameter i is in the weight-decay group. */
    public boolean decays(int i) {
        return decay[i];
    }

    /**
     * One update with learning rate {@code lr}; {@code grads.get(i)} is the gradient of weight i (already unscaled
     * and clipped).
     */
    public void step(List<NDArray> grads, double lr) {
        if (grads.size() != weights.size()) {
            throw new IllegalArgumentException("expected " + weights.size() + " gradients, got " + grads.size());
        }
        step++;
        for (Group group : groups) {
            kernels.adamw(group.weights(), pick(grads, group.indices()), group.m(), group.v(), step, lr, beta1, beta2,
                    epsilon, group.weightDecay());
        }
    }

    /** The state for a checkpoint: first moments then second moments, in parameter order. */
    public NDList moments() {
        NDList all = new NDList();
        all.addAll(m);
        all.addAll(v);
        return all;
    }

    /** Restores {@link #moments()} and the step count saved by a checkpoint. */
    public void restore(NDList moments, long steps) {
        if (moments.size() != 2 * weights.size()) {
            throw new IllegalArgumentException("optimizer state has " + moments.size() + " tensors but the model needs "
                    + 2 * weights.size() + ": the checkpoint belongs to a different model");
        }
        for (int i = 0; i < weights.size(); i++) {
            copyInto(moments.get(i), m.get(i));
            copyInto(moments.get(weights.size() + i), v.get(i));
        }
        this.step = steps;
    }

    private static void copyInto(NDArray from, NDArray to) {
        if (!from.getShape().equals(to.getShape())) {
            throw new IllegalArgumentException("optimizer state shape " + from.getShape()
                    + " does not match parameter shape "
                    + to.getShape() + ": the checkpoint belongs to a different model");
        }
        to.set(from.toByteBuffer());
    }

    @Override
    public void close() {
        stateManager.close();
    }
}
