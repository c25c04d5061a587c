package io.stepslm.serve;

import io.stepslm.generate.Generator;
import io.stepslm.generate.SamplingConfig;
import io.stepslm.model.LanguageModel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link Engine} with one thread per slot, each decoding its own generation with {@link Generator} and its own
 * KV cache (the model's weights are shared read-only). Admission is a semaphore of slots + queue permits, so a
 * request is refused at once when both are taken, and a finished generation frees its permit before its listener
 * hears the end (the client's next request finds the slot free).
 */
public final class GeneratorEngine implements Engine {

    private final LanguageModel model;
    private final int slots;
    private final int capacity;
    private final Semaphore admission;
    private final ExecutorService pool;
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicInteger admitted = new AtomicInteger();
    private final Set<Job> jobs = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    public GeneratorEngine(LanguageModel model, int slots, int queue) {
        if (slots < 1) {
            throw new IllegalArgumentException("--parallel " + slots + " must be at least 1 slot");
        }
        if (queue < 0) {
            throw new IllegalArgumentException("--queue " + queue + " must be 0 (no waiting) or more");
        }
        this.model = model;
        this.slots = slots;
        this.capacity = slots + queue;
        this.admission = new Semaphore(capacity);
        AtomicInteger names = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(slots, r -> {
            Thread t = new Thread(r, "slot-" + names.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public Ticket submit(int[] prompt, SamplingParams params, Set<Integer> stopTokens, Listener listener) {
        if (closing) {
            throw new QueueFullException("the server is shutting down");
        }
        if (!admission.tryAcquire()) {
            throw new QueueFullException("all " + slots + " slots are busy and the queue is full");
        }
        Job job = new Job(prompt.clone(), params, Set.copyOf(stopTokens), listener);
        jobs.add(job);
        admitted.incrementAndGet();
        pool.execute(job);
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
        return Math.max(0, admitted.get() - busy.get());
    }

    @Override
    public void shutdown(long graceMillis) {
        closing = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        while (!jobs.isEmpty() && System.nanoTime() < deadline) {
            sleepBriefly();
        }
        for (Job job : jobs) {
            job.cut(Finish.SHUTDOWN);
        }
        pool.shutdown();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown from the token callback to leave {@link Generator#generate} at once (it closes its cache on the way). */
    private static final class Cut extends RuntimeException {
        Cut() {
            super(null, null, false, false);
        }
    }

    private final class Job implements Runnable, Ticket {
        private final int[] prompt;
        private final SamplingParams params;
        private final Set<Integer> stopTokens;
        private final Listener listener;
        private volatile Finish cutBy;

        Job(int[] prompt, SamplingParams params, Set<Integer> stopTokens, Listener listener) {
            this.prompt = prompt;
            this.params = params;
            this.stopTokens = stopTokens;
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
        public void run() {
            Finish finish;
            String message = null;
            busy.incrementAndGet();
            try {
                if (cutBy != null) {
                    throw new Cut();
                }
                int[] out = new Generator(model).generate(prompt, config(params), stopTokens, token -> {
                    if (cutBy != null) {
                        throw new Cut();
                    }
                    listener.onToken(token);
                });
                boolean stopped = out.length > 0 && stopTokens.contains(out[out.length - 1]);
                finish = stopped ? Finish.STOP : Finish.LENGTH;
            } catch (Cut c) {
                finish = cutBy;
            } catch (RuntimeException e) {
                finish = Finish.ERROR;
                message = e.getMessage() != null ? e.getMessage() : e.toString();
            } finally {
                busy.decrementAndGet();
                admitted.decrementAndGet();
                jobs.remove(this);
                admission.release();
            }
            listener.onEnd(finish, message);
        }
    }

    /** The settings today's {@link Generator} honours; the rest are validated by {@link SamplingParams}. */
    static SamplingConfig config(SamplingParams p) {
        return new SamplingConfig(p.maxTokens(), p.temperature(), p.topK(), p.topP(), p.seed());
    }
}
