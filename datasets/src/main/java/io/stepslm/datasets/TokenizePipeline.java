package io.stepslm.datasets;

import io.stepslm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Ordered tokenization on a thread pool, shared by the streaming loader and {@code data prepare}: the caller's thread
 * reads (and decompresses) document pieces into batches of about {@link #BATCH_CHARS} chars, workers turn each batch
 * into ids with {@link DocumentIds#of}, and the results come back in reading order. Up to two batches per thread are
 * in flight, so that one long document in a batch still leaves the other threads busy; with one thread the batch is
 * tokenized inline. Memory is bounded by the batches in flight.
 *
 * @param <T> what the reader attaches to a piece (where it came from, which part of the split it goes to)
 */
final class TokenizePipeline<T> implements AutoCloseable {

    /** A batch: about 256 Ki chars, large enough to amortise the hand-off, small enough for memory. */
    static final int BATCH_CHARS = 1 << 18;

    /** A piece to tokenize, with its tag and the source whose token count it adds to. */
    record Job<T>(T tag, Document piece, SourceStats stats) {}

    /** A tokenized piece; {@code ids} end with end-of-text when it was the last piece of its document. */
    record Done<T>(T tag, boolean last, int[] ids) {}

    /** The reader on the caller's thread. */
    interface Reader<T> {
        /** The next piece to tokenize, or null when there is none. */
        Job<T> next() throws IOException;
    }

    private final Tokenizer tokenizer;
    private final Reader<T> reader;
    private final ExecutorService pool;
    private final int depth;
    private final ArrayDeque<Future<List<Done<T>>>> inflight = new ArrayDeque<>();
    private Iterator<Done<T>> ready = List.<Done<T>>of().iterator();
    private boolean readerDone;

    TokenizePipeline(Tokenizer tokenizer, int threads, String threadName, Reader<T> reader) {
        this.tokenizer = tokenizer;
        this.reader = reader;
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        }) : null;
        this.depth = threads > 1 ? 2 * threads : 1;
    }

    /** The next tokenized piece in reading order, or null when the reader has no more. */
    Done<T> next() throws IOException {
        while (!ready.hasNext()) {
            fill();
            Future<List<Done<T>>> f = inflight.poll();
            if (f == null) {
                return null;
            }
            ready = await(f).iterator();
            fill();
        }
        return ready.next();
    }

    private void fill() throws IOException {
        while (!readerDone && inflight.size() < depth) {
            List<Job<T>> batch = new ArrayList<>();
            long chars = 0;
            while (chars < BATCH_CHARS) {
                Job<T> job = reader.next();
                if (job == null) {
                    readerDone = true;
                    break;
                }
                batch.add(job);
                chars += job.piece().text().length() + 1;
            }
            if (batch.isEmpty()) {
                break;
            }
            inflight.add(pool == null ? CompletableFuture.completedFuture(tokenize(batch))
                    : pool.submit(() -> tokenize(batch)));
        }
    }

    private List<Done<T>> tokenize(List<Job<T>> batch) {
        List<Done<T>> out = new ArrayList<>(batch.size());
        for (Job<T> job : batch) {
            int[] ids = DocumentIds.of(job.piece(), tokenizer);
            // counted here, not by the consumer: a cycling reader may be in a later epoch with another file order
            job.stats().addTokens(ids.length);
            out.add(new Done<>(job.tag(), job.piece().last(), ids));
        }
        return out;
    }

    private static <R> R await(Future<R> f) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("tokenization failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for tokenized text");
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
