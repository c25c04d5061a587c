package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.generate.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Slots, queue, cancellation and shutdown of the engine, with listeners that hold a slot as long as a test needs. */
class GeneratorEngineTest {

    private static TinyModel tiny;

    @BeforeAll
    static void model() {
        tiny = new TinyModel();
    }

    @AfterAll
    static void closeModel() {
        tiny.close();
    }

    /** Collects tokens; blocks on its first token until released, so that its generation holds its slot. */
    static final class Held implements Engine.Listener {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CompletableFuture<Engine.Finish> end = new CompletableFuture<>();
        final List<Integer> tokens = new ArrayList<>();

        @Override
        public void onToken(int token) {
            tokens.add(token);
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void onEnd(Engine.Finish finish, String message) {
            end.complete(finish);
        }

        Engine.Finish finish() throws Exception {
            return end.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFullQueueRefusesAndCancelledOrFinishedWorkFreesItsPlace() throws Exception {
        try (GeneratorEngine engine = new GeneratorEngine(tiny.model, 1, 1)) {
            SamplingParams params = SamplingParams.defaults(50, 1).withMaxTokens(50);
            Held running = new Held();
            Engine.Ticket first = engine.submit(new int[] {1, 2}, params, Set.of(), running);
            assertTrue(running.started.await(30, TimeUnit.SECONDS));
            Held waiting = new Held();
            Engine.Ticket second = engine.submit(new int[] {3}, params, Set.of(), waiting);
            assertEquals(1, engine.busySlots());
            assertEquals(1, engine.queued());
            Engine.QueueFullException full = assertThrows(Engine.QueueFullException.class,
                    () -> engine.submit(new int[] {4}, params, Set.of(), new Held()));
            assertTrue(full.getMessage().contains("1 slots are busy and the queue is full"), full.getMessage());

            second.cancel(); // cancelled while queued: it never generates
            first.cancel();
            running.release.countDown();
            assertEquals(Engine.Finish.CANCELLED, running.finish());
            assertEquals(1, running.tokens.size(), "cut at the next token");
            assertEquals(Engine.Finish.CANCELLED, waiting.finish());
            assertEquals(0, waiting.tokens.size());
            assertEquals(0, engine.busySlots());
            assertEquals(0, engine.queued());

            Held next = new Held();
            next.release.countDown();
            engine.submit(new int[] {5}, params, Set.of(), next);
            assertEquals(Engine.Finish.LENGTH, next.finish());
            assertEquals(50, next.tokens.size());
        }
    }

    @Test
    void tokensAreTheGeneratorsAndAStopTokenEndsWithStop() throws Exception {
        try (GeneratorEngine engine = new GeneratorEngine(tiny.model, 2, 0)) {
            SamplingParams params = SamplingParams.defaults(40, 9);
            int[] alone = new Generator(tiny.model).generate(new int[] {7, 8}, GeneratorEngine.config(params),
                    Set.of(), t -> { });
            Held held = new Held();
            held.release.countDown();
            engine.submit(new int[] {7, 8}, params, Set.of(), held);
            assertEquals(Engine.Finish.LENGTH, held.finish());
            assertArrayEquals(alone, held.tokens.stream().mapToInt(Integer::intValue).toArray());

            Held stopped = new Held();
            stopped.release.countDown();
            engine.submit(new int[] {7, 8}, params, Set.of(alone[3]), stopped);
            assertEquals(Engine.Finish.STOP, stopped.finish());
            assertEquals(alone[3], stopped.tokens.get(stopped.tokens.size() - 1));
        }
    }

    @Test
    void shutdownCutsRunningAndQueuedWorkAndRefusesNewWork() throws Exception {
        GeneratorEngine engine = new GeneratorEngine(tiny.model, 1, 1);
        SamplingParams params = SamplingParams.defaults(50, 1);
        Held running = new Held();
        engine.submit(new int[] {1}, params, Set.of(), running);
        assertTrue(running.started.await(30, TimeUnit.SECONDS));
        Held queued = new Held();
        engine.submit(new int[] {1}, params, Set.of(), queued);
        CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> engine.shutdown(0));
        running.release.countDown();
        shutdown.get(30, TimeUnit.SECONDS);
        assertEquals(Engine.Finish.SHUTDOWN, running.finish());
        assertEquals(Engine.Finish.SHUTDOWN, queued.finish());
        Engine.QueueFullException refused = assertThrows(Engine.QueueFullException.class,
                () -> engine.submit(new int[] {1}, params, Set.of(), new Held()));
        assertTrue(refused.getMessage().contains("shutting down"));
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new GeneratorEngine(tiny.model, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new GeneratorEngine(tiny.model, 1, -1));
    }
}
