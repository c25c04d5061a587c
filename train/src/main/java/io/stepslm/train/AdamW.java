package io.stepslm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", 2019) with PyTorch's update rule, written
 * with in-place NDArray ops so that its state (both moments and the step count) can be saved and restored; DJL's
 * built-in Adam keeps its moments private, decays every parameter and zeroes gradients inside {@code update}.
 * Weight decay applies only to tensors of two or more dimensions, i.e. matrices and embeddings, never to norm
 * weights or biases (nanoGPT {@code configure_optimizers}).
 *
 * <pre>
 *   p <- p * (1 - lr * wd)                                   (decay group only)
 *   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
 *   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 */
public final class AdamW implements AutoCloseable {

    private final List<NDArray> weights;
    private final boolean[] decay;
    private final NDManager stateManager;
    private final List<NDArray> m = new ArrayList<>();
    private final List<NDArray> v = new ArrayList<>();
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private long step;

    /** The moments live in a child of the first weight's manager, on the weights' devices, all zeros. */
    public AdamW(List<NDArray> weights, double beta1, double beta2, double epsilon, double weightDecay) {
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("AdamW needs at least one parameter");
        }
        this.weights = List.copyOf(weights);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.stateManager = weights.get(0).getManager().newSubManager();
        this.decay = new boolean[weights.size()];
        for (int i = 0; i < weights.size(); i++) {
            NDArray w = weights.get(i);
            decay[i] = w.getShape().dimension() >= 2;
            m.add(stateManager.zeros(w.getShape(), w.getDataType(), w.getDevice()));
            v.add(stateManager.zeros(w.getShape(), w.getDataType(), w.getDevice()));
        }
    }

    public static AdamW of(List<NDArray> weights, TrainConfig c) {
        return new AdamW(weights, c.beta1(), c.beta2(), c.epsilon(), c.weightDecay());
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
     * and clipped). Temporaries go to {@code scratch}, which the caller closes after the step.
     */
    public void step(List<NDArray> grads, double lr, NDManager scratch) {
        if (grads.size() != weights.size()) {
            throw new IllegalArgumentException("expected " + weights.size() + " gradients, got " + grads.size());
        }
        step++;
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        for (int i = 0; i < weights.size(); i++) {
            NDArray p = weights.get(i);
            NDArray g = grads.get(i);
            NDArray mi = m.get(i);
            NDArray vi = v.get(i);
            // No autograd is recording here (outside a GradientCollector), so Number operands are safe (trap 1
            // only concerns tensors that take part in a backward pass).
            NDArray gScaled = g.mul(1 - beta1);
            gScaled.attach(scratch);
            mi.muli(beta1).addi(gScaled);
            NDArray gSquared = g.square();
            gSquared.attach(scratch);
            vi.muli(beta2).addi(gSquared.muli(1 - beta2));
            NDArray denominator = vi.sqrt(); // results belong to vi's manager: move them to scratch (trap 8)
            denominator.attach(scratch);
            denominator.divi(bias2Sqrt).addi(epsilon);
            NDArray update = mi.div(denominator);
            update.attach(scratch);
            update.muli(lr / bias1);
            if (decay[i] && weightDecay > 0) {
                p.muli(1 - lr * weightDecay);
            }
            p.subi(update);
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
            throw new IllegalArgumentException("optimizer state shape " + from.getShape() + " does not match parameter shape "
                    + to.getShape() + ": the checkpoint belongs to a different model");
        }
        to.set(from.toByteBuffer());
    }

    @Override
    public void close() {
        stateManager.close();
    }
}
