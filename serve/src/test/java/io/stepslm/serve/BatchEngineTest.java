package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.Generator;
import io.stepslm.generate.TokenListener;
import io.stepslm.generate.TokenLogprobs;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** Slots, queue, cancellation and shutdown of the engine, with listeners that hold the engine as long as needed. */
class BatchEngineTest {

    @AutoClose
    private static final TinyModel tiny = new TinyModel();

    private static BatchEngine engine(int slots, int queue) {
        return new BatchEngine(tiny.model, tiny.tokenizer::decode, slots, queue);
    }

    private static GenerationConfig config(int tokens, long seed) {
        return SamplingParams.defaults(tokens, seed).toConfig(Set.of(), List.of(), -1);
    }

    /** Collects tokens; blocks on its first token until released, so that the decoding thread holds its slot. */
    static final class Held implements Engine.Listener {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CompletableFuture<Engine.Finish> end = new CompletableFuture<>();
        final List<Integer> tokens = new ArrayList<>();
        final StringBuilder text = new StringBuilder();

        @Override
        public void onToken(int token, String piece, TokenLogprobs logprobs) {
            tokens.add(token);
            text.append(piece);
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

        int[] ids() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    @Test
    void aFullQueueRefusesAndCancelledOrFinishedWorkFreesItsPlace() throws Exception {
        try (BatchEngine engine = engine(1, 1)) {
            Held running = new Held();
            Engine.Ticket first = engine.submit(new int[] {1, 2}, config(50, 1), running);
            assertTrue(running.started.await(30, TimeUnit.SECONDS));
            Held waiting = new Held();
            Engine.Ticket second = engine.submit(new int[] {3}, config(50, 1), waiting);
            assertEquals(1, engine.busySlots());
            assertEquals(1, engine.queued());
            Engine.QueueFullException full = assertThrows(Engine.QueueFullException.class,
                    () -> engine.submit(new int[] {4}, config(50, 1), new Held()));
            assertTrue(full.getMessage().contains("1 slots are busy and the queue is full"), full.getMessage());

            second.cancel(); // cancelled while queued: it never generates
            first.cancel();
            running.release.countDown();
            assertEquals(Engine.Finish.CANCELLED, running.finish());
            assertEquals(1, running.tokens.size(), "nothing is reported after the cut");
            assertEquals(Engine.Finish.CANCELLED, waiting.finish());
            assertEquals(0, waiting.tokens.size());
            assertEquals(0, engine.busySlots());
            assertEquals(0, engine.queued());

            Held next = new Held();
            next.release.countDown();
            engine.submit(new int[] {5}, config(50, 1), next);
            assertEquals(Engine.Finish.LENGTH, next.finish());
            assertEquals(50, next.tokens.size());
        }
    }

    @Test
    void generationsEqualTheGeneratorAloneAndStopsEndWithStop() throws Exception {
        try (BatchEngine engine = engine(3, 0)) {
            Generator alone = new Generator(tiny.model, tiny.tokenizer::decode);
            List<Held> together = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                GenerationConfig c = config(30 + 10 * i, 9 + i);
                expected.add(alone.generate(new int[] {7, 8 + i}, c, TokenListener.NONE).tokens());
                Held held = new Held();
                held.release.countDown();
                engine.submit(new int[] {7, 8 + i}, c, held);
                together.add(held);
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(Engine.Finish.LENGTH, together.get(i).finish());
                assertArrayEquals(expected.get(i), together.get(i).ids(), "slot " + i);
            }
            int[] first = expected.get(0);
            Held stopped = new Held();
            stopped.release.countDown();
            engine.submit(new int[] {7, 8}, config(30, 9).withStops(Set.of(first[3]), List.of()), stopped);
            assertEquals(Engine.Finish.STOP, stopped.finish());
            assertEquals(first[3], (int) stopped.tokens.get(stopped.tokens.size() - 1));
        }
    }

    @Test
    void shutdownCutsRunningAndQueuedWorkAndRefusesNewWork() throws Exception {
        BatchEngine engine = engine(1, 1);
        Held running = new Held();
        engine.submit(new int[] {1}, config(50, 1), running);
        assertTrue(running.started.await(30, TimeUnit.SECONDS));
        Held queued = new Held();
        engine.submit(new int[] {1}, config(50, 1), queued);
        CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> engine.shutdown(0));
        running.release.countDown();
        shutdown.get(30, TimeUnit.SECONDS);
        assertEquals(Engine.Finish.SHUTDOWN, running.finish());
        assertEquals(Engine.Finish.SHUTDOWN, queued.finish());
        Engine.QueueFullException refused = assertThrows(Engine.QueueFullException.class,
                () -> engine.submit(new int[] {1}, config(50, 1), new Held()));
        assertTrue(refused.getMessage().contains("shutting down"));
    }

    @Test
    void badSizesAndPromptsAreRefused() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> engine(0, 1));
        assertThrows(IllegalArgumentException.class, () -> engine(1, -1));
        try (BatchEngine engine = engine(1, 0)) {
            Held bad = new Held();
            engine.submit(new int[] {10_000}, config(5, 1), bad);
            assertEquals(Engine.Finish.ERROR, bad.finish());
        }
    }
}
