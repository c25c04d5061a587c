package io.stepslm.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelRuntime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Data parallelism over the devices of one machine, with PyTorch DDP's arithmetic in one process: the primary model
 * lives on the first device and a replica on each other one. Each micro-batch of B windows is split into one shard
 * per device; every model runs forward and backward on its shard with its loss weighted by shard / B, so the
 * replicas' gradients summed into the primary's are exactly the gradient of the mean loss over the whole batch. The
 * optimizer then steps the primary alone and {@link #broadcast()} copies the new weights to the replicas.
 *
 * <p>With one device this is the plain single-model step (no replica, the same arithmetic to the bit). Devices are
 * driven from one thread: CUDA launches are asynchronous, so the GPUs overlap while the host queues the next shard.
 * On a CPU-only machine the same path runs with several CPU replicas, which is how it is tested.
 */
public final class DataParallel implements AutoCloseable {

    private final LanguageModel primary;
    private final List<LanguageModel> replicas;

    private DataParallel(LanguageModel primary, List<LanguageModel> replicas) {
        this.primary = primary;
        this.replicas = replicas;
    }

    /** One device: the model itself, no replica. */
    public static DataParallel single(LanguageModel model) {
        return new DataParallel(model, List.of());
    }

    /**
     * The primary model plus a replica on each of {@code others} (e.g. GPUs 1..n-1 when the primary is on GPU 0),
     * initialised with the primary's weights. Replicas share the primary's kernels, precision and seed.
     */
    public static DataParallel over(LanguageModel primary, List<Device> others) {
        List<LanguageModel> replicas = new ArrayList<>();
        try {
            for (Device device : others) {
                ModelRuntime r = primary.runtime();
                replicas.add(LanguageModel.create(primary.config(), new ModelRuntime(device, r.kernels(), r.precision(), r.seed())));
            }
        } catch (RuntimeException e) {
            replicas.forEach(LanguageModel::close);
            throw e;
        }
        DataParallel parallel = new DataParallel(primary, List.copyOf(replicas));
        parallel.broadcast();
        return parallel;
    }

    /** The replicas, in device order (tests compare them with the primary). */
    List<LanguageModel> replicas() {
        return replicas;
    }

    /** Number of devices (1 + replicas). */
    public int devices() {
        return 1 + replicas.size();
    }

    /** Sizes of the shards of a batch of {@code batch} windows over {@code devices} devices: as equal as possible. */
    static int[] shardSizes(int batch, int devices) {
        if (batch < devices) {
            throw new IllegalArgumentException("a batch of " + batch + " windows cannot be split over " + devices
                    + " devices: use --batch-size of at least " + devices);
        }
        int[] sizes = new int[devices];
        for (int d = 0; d < devices; d++) {
            sizes[d] = batch / devices + (d < batch % devices ? 1 : 0);
        }
        return sizes;
    }

    /**
     * Forward and backward of one micro-batch (windows of T + 1 ids) over every device, each shard's loss times
     * {@code factor} (loss scale / accumulation) times its share of the batch. Gradients accumulate in each model;
     * inputs and the factor arrays live in {@code sm} or in per-device scopes closed after backward. Returns the
     * mean loss over the batch (unscaled).
     */
    public double forwardBackward(NDManager sm, GradientCollector collector, int[][] windows, int t, float factor) {
        if (replicas.isEmpty()) {
            return shard(primary, sm, collector, windows, t, factor);
        }
        int[] sizes = shardSizes(windows.length, devices());
        double loss = 0;
        int from = 0;
        for (int d = 0; d < devices(); d++) {
            LanguageModel model = d == 0 ? primary : replicas.get(d - 1);
            int[][] part = Arrays.copyOfRange(windows, from, from + sizes[d]);
            from += sizes[d];
            float share = (float) sizes[d] / windows.length;
            try (NDManager dm = NDManager.newBaseManager(model.runtime().device())) {
                loss += share * shard(model, dm, collector, part, t, factor * share);
            }
        }
        return loss;
    }

    private static double shard(LanguageModel model, NDManager m, GradientCollector collector, int[][] windows, int t, float factor) {
        NDArray weight = m.create(factor); // () array, not a Number: djl-notes trap 1
        NDArray[] xy = Trainer.inputsAndTargets(m, windows, t); // (B_d, T) each
        NDArray loss = model.loss(xy[0], xy[1], true); // () FP32
        collector.backward(loss.mul(weight));
        return loss.getFloat();
    }

    /** The primary's gradients (attached to {@code sm}) with every replica's gradient added in. */
    public List<NDArray> gradients(NDManager sm) {
        List<NDArray> grads = new ArrayList<>(primary.gradients(sm).values());
        for (LanguageModel replica : replicas) {
            Iterator<NDArray> own = grads.iterator();
            for (NDArray g : replica.gradients(sm).values()) {
                NDArray target = own.next();
                NDArray moved = g.toDevice(target.getDevice(), false);
                moved.attach(sm); // a copy on another device belongs to g's manager otherwise (trap 8)
                target.addi(moved);
            }
        }
        return grads;
    }

    /** Zeroes the gradients of every model. */
    public void zeroGradients() {
        primary.zeroGradients();
        replicas.forEach(LanguageModel::zeroGradients);
    }

    /** Copies the primary's weights into every replica (after each optimizer step), device to device. */
    public void broadcast() {
        for (LanguageModel replica : replicas) {
            replica.copyWeightsFrom(primary);
        }
    }

    /** Closes the replicas (the primary belongs to the caller). */
    @Override
    public void close() {
        replicas.forEach(LanguageModel::close);
    }
}
