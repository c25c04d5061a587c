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
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Data parallelism over the devices of one machine, with PyTorch DDP's arithmetic in one process: the primary model
 * lives on the first device and a replica on each other one. Each micro-batch of B windows is split into one shard
 * per device; every model runs forward and backward on its shard with its loss weighted by shard / B, so the
 * replicas' gradients summed into the primary's are exactly the gradient of the mean loss over the whole batch. The
 * optimizer then steps the primary alone and {@link #broadcast()} copies the new weights to the replicas.
 *
 * <p>The devices overlap: each replica runs its shard on a thread of its own while the calling thread runs the
 * primary's, and nothing reads a result back to the host until every shard has been queued (a {@code getFloat} on
 * one GPU's loss would otherwise stall the host until that GPU finished, before the next GPU got any work, as
 * DDP's one-process-per-GPU design avoids). Gradients are summed device to device in a fixed order, so the
 * result is the same to the bit as running the shards one after another. With one device this is the plain
 * single-model step (no replica, no thread, the same arithmetic to the bit). On a CPU-only machine the same path
 * runs with several CPU replicas, which is how it is tested (there the replicas share the CPU's random generator,
 * so with dropout the masks depend on thread timing; GPUs each have their own).
 */
public final class DataParallel implements AutoCloseable {

    private final LanguageModel primary;
    private final List<LanguageModel> replicas;
    /** One thread per replica, kept for the whole run (a GPU thread keeps its CUDA context current). */
    private final List<ExecutorService> workers;

    private DataParallel(LanguageModel primary, List<LanguageModel> replicas) {
        this.primary = primary;
        this.replicas = replicas;
        List<ExecutorService> threads = new ArrayList<>();
        for (LanguageModel replica : replicas) {
            String name = "stepslm-data-parallel-" + replica.runtime().device();
            threads.add(Executors.newSingleThreadExecutor(r -> {
                Thread thread = new Thread(r, name);
                thread.setDaemon(true); // never keeps the JVM alive after a failed run
                return thread;
            }));
        }
        this.workers = List.copyOf(threads);
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
                replicas.add(LanguageModel.create(primary.config(),
                        new ModelRuntime(device, r.kernels(), r.precision(), r.seed())));
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
     * inputs and the factor arrays live in {@code sm} (one device) or in per-device scopes closed after backward.
     * Returns the mean loss over the batch (unscaled), read back once every device has its work.
     */
    public double forwardBackward(NDManager sm, GradientCollector collector, int[][] windows, int t, float factor) {
        if (replicas.isEmpty()) {
            return shard(primary, sm, collector, windows, t, factor).getFloat();
        }
        int[] sizes = shardSizes(windows.length, devices());
        float[] shares = new float[sizes.length];
        List<NDManager> scopes = new ArrayList<>();
        List<Future<NDArray>> pending = new ArrayList<>();
        try {
            int from = sizes[0];
            for (int d = 1; d < devices(); d++) { // the replicas' shards first, each on its own thread
                LanguageModel model = replicas.get(d - 1);
                int[][] part = Arrays.copyOfRange(windows, from, from + sizes[d]);
                from += sizes[d];
                shares[d] = (float) sizes[d] / windows.length;
                float weight = factor * shares[d];
                NDManager dm = NDManager.newBaseManager(model.runtime().device());
                scopes.add(dm);
                // a fresh thread starts with libtorch's autograd on (its per-thread default; DJL switched it off
                // only on the thread that started the engine), and these threads run nothing else
                pending.add(workers.get(d - 1).submit(() -> shard(model, dm, collector, part, t, weight)));
            }
            shares[0] = (float) sizes[0] / windows.length;
            NDManager pm = NDManager.newBaseManager(primary.runtime().device());
            scopes.add(0, pm);
            List<NDArray> losses = new ArrayList<>();
            losses.add(shard(primary, pm, collector, Arrays.copyOfRange(windows, 0, sizes[0]), t, factor * shares[0]));
            losses.addAll(await(pending));
            double loss = 0;
            for (int d = 0; d < losses.size(); d++) { // device order: the sum of the sequential version
                loss += shares[d] * losses.get(d).getFloat();
            }
            return loss;
        } finally {
            finish(pending); // after a failure too: the other shards finish before their scopes close
            scopes.forEach(NDManager::close);
        }
    }

    /** Forward and backward of one shard; returns its () FP32 loss, still on the device (no host read here). */
    private static NDArray shard(LanguageModel model, NDManager m, GradientCollector collector, int[][] windows,
                                 int t, float factor) {
        NDArray weight = m.create(factor); // () array, not a Number: docs/design.md DJL trap 1
        NDArray[] xy = Trainer.inputsAndTargets(m, windows, t); // (B_d, T) each
        NDArray loss = model.loss(xy[0], xy[1], true); // () FP32
        collector.backward(loss.mul(weight));
        return loss;
    }

    private static List<NDArray> await(List<Future<NDArray>> pending) {
        List<NDArray> out = new ArrayList<>();
        for (Future<NDArray> f : pending) {
            try {
                out.add(f.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the data-parallel devices ran their shards", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException("a data-parallel shard failed: " + e.getCause(), e.getCause());
            }
        }
        return out;
    }

    /** Waits until every shard has finished, successful or not (their scopes are closed next). */
    private static void finish(List<Future<NDArray>> pending) {
        boolean interrupted = false;
        for (Future<NDArray> f : pending) {
            while (!f.isDone()) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException | CancellationException e) {
                    break; // reported by await, or the run is failing already
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The primary's gradients (attached to {@code sm}) with every replica's added in, device to device. */
    public List<NDArray> gradients(NDManager sm) {
        List<NDArray> grads = new ArrayList<>(primary.gradients(sm).values());
        for (LanguageModel replica : replicas) { // fixed order: the sum does not depend on which device finished first
            Iterator<NDArray> own = grads.iterator();
            for (NDArray g : replica.gradients(sm).values()) {
                NDArray target = own.next();
                NDArray moved = g.toDevice(target.getDevice(), false); // a peer copy between GPUs, not via the host
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

    /** Stops the worker threads and closes the replicas (the primary belongs to the caller). */
    @Override
    public void close() {
        workers.forEach(ExecutorService::shutdownNow);
        replicas.forEach(LanguageModel::close);
    }
}
