package io.stepslm.serve;

import io.stepslm.generate.ContinuousBatch;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.Slot;
import io.stepslm.generate.StopReason;
import io.stepslm.generate.TokenDecoder;
import io.stepslm.generate.TokenLogprobs;
import io.stepslm.generate.TokenListener;
import io.stepslm.model.LanguageModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Continuous batching, as llama.cpp's server: one driver thread owns a {@link ContinuousBatch} of {@code slots}
 * rows; between decoding steps it releases cancelled generations and lets waiting ones join free rows, and every
 * step advances all busy slots in one batched forward pass. Each slot has its own KV-cache row, sampler and seed,
 * so a generation gives what it gives alone. Admission is a semaphore of slots + queue permits: a request is
 * refused at once when both are taken, and a finished generation frees its permit before its listener hears the
 * end (the client's next request finds the place free).
 */
public final class BatchEngine implements Engine {

    private final ContinuousBatch batch;
    private final int slots;
    private final int capacity;
    private final Semaphore admission;
    private final LinkedBlockingQueue<Job> waiting = new LinkedBlockingQueue<>();
    private final List<Job> running = new ArrayList<>(); // driver thread only
    private final Set<Job> jobs = ConcurrentHashMap.newKeySet();
    private final AtomicInteger busy = new AtomicInteger();
    private final Thread driver;
    private volatile boolean closing;

    /** {@code decoder} turns ids into text for stop strings and streaming: {@code tokenizer::decode}. */
    public BatchEngine(LanguageModel model, TokenDecoder decoder, int slots, int queue) {
        if (slots < 1) {
            throw new IllegalArgumentException("--parallel " + slots + " must be at least 1 slot");
        }
        if (queue < 0) {
            throw new IllegalArgumentException("--queue " + queue + " must be 0 (no waiting) or more");
        }
        this.slots = slots;
        this.capacity = slots + queue;
        this.admission = new Semaphore(capacity);
        this.batch = new ContinuousBatch(model, decoder, slots);
        this.driver = new Thread(this::drive, "decode");
        driver.setDaemon(true);
        driver.start();
    }

    @Override
    public Ticket submit(int[] prompt, GenerationConfig config, Listener listener) {
        if (closing) {
            throw new QueueFullException("the server is shutting down");
        }
        if (!admission.tryAcquire()) {
            throw new QueueFullException("all " + slots + " slots are busy and the queue is full");
        }
        Job job = new Job(prompt.clone(), config, listener);
        jobs.add(job);
        waiting.add(job);
        return job;
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int busySlots() {
        return busy.get();
    }

    @Override
    public int queued() {
        return waiting.size();
    }

    @Override
    public void shutdown(long graceMillis) {
        closing = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        while (!jobs.isEmpty() && System.nanoTime() < deadline) {
            pause(10);
        }
        for (Job job : jobs) {
            job.cut(Finish.SHUTDOWN);
        }
        long stopBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!jobs.isEmpty() && System.nanoTime() < stopBy) {
            pause(5);
        }
        driver.interrupt();
        try {
            driver.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!driver.isAlive()) {
            batch.close();
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The driver: join, release and step, on this thread only (the batch is not thread-safe). */
    private void drive() {
        while (!(closing && jobs.isEmpty()) || !running.isEmpty()) {
            try {
                for (int i = running.size() - 1; i >= 0; i--) {
                    Job job = running.get(i);
                    if (job.cutBy != null) {
                        batch.release(job.slot);
                        finish(job, job.cutBy, null);
                    }
                }
                while (batch.hasFreeRow()) {
                    Job job = running.isEmpty() ? waiting.poll(50, TimeUnit.MILLISECONDS) : waiting.poll();
                    if (job == null) {
                        break;
                    }
                    start(job);
                }
                if (!running.isEmpty()) {
                    batch.step();
                    for (int i = running.size() - 1; i >= 0; i--) {
                        Job job = running.get(i);
                        if (job.slot.finished()) {
                            finish(job, finish(job.slot.result().stopReason()), null);
                        }
                    }
                }
            } catch (InterruptedException e) {
                if (!closing) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } catch (RuntimeException e) {
                // a failed step fails every generation in it; the batch itself stays usable for the next ones
                String message = e.getMessage() != null ? e.getMessage() : e.toString();
                for (Job job : List.copyOf(running)) {
                    batch.release(job.slot);
                    finish(job, Finish.ERROR, message);
                }
            }
        }
    }

    private void start(Job job) {
        if (job.cutBy != null) {
            finish(job, job.cutBy, null);
            return;
        }
        running.add(job);
        busy.set(running.size());
        try {
            job.slot = batch.join(job.prompt, job.config, job);
        } catch (IllegalArgumentException e) {
            finish(job, Finish.ERROR, e.getMessage());
            return;
        }
        if (job.slot.finished()) {
            finish(job, finish(job.slot.result().stopReason()), null);
        }
    }

    private void finish(Job job, Finish finish, String message) {
        running.remove(job);
        busy.set(running.size());
        jobs.remove(job);
        admission.release();
        job.listener.onEnd(finish, message);
    }

    private static Finish finish(StopReason reason) {
        return switch (reason) {
            case STOP_TOKEN, STOP_STRING -> Finish.STOP;
            case LENGTH -> Finish.LENGTH;
            case CANCELLED -> Finish.CANCELLED;
        };
    }

    private static final class Job implements Ticket, TokenListener {
        final int[] prompt;
        final GenerationConfig config;
        final Listener listener;
        Slot slot; // driver thread only
        volatile Finish cutBy;

        Job(int[] prompt, GenerationConfig config, Listener listener) {
            this.prompt = prompt;
            this.config = config;
            this.listener = listener;
        }

        @Override
        public void cancel() {
            cut(Finish.CANCELLED);
        }

        void cut(Finish reason) {
            if (cutBy == null) {
                cutBy = reason;
            }
        }

        @Override
        public void onToken(int token, String text, TokenLogprobs logprobs) {
            if (cutBy == null) { // a cut generation reports nothing after the cut, even within the current step
                listener.onToken(token, text, logprobs);
            }
        }
    }
}
