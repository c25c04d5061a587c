package io.stepslm.serve;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters in Prometheus' text exposition format (version 0.0.4), as llama.cpp's {@code /metrics}:
 * requests by endpoint and status, tokens in and out, generated tokens per second over the last
 * {@value #WINDOW_SECONDS} seconds, queue depth and busy slots.
 */
public final class Metrics {

    static final int WINDOW_SECONDS = 10;

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    // generated tokens per wall-clock second, in a ring indexed by epoch second; slot i holds second seconds[i]
    private final AtomicLongArray perSecond = new AtomicLongArray(WINDOW_SECONDS + 1);
    private final AtomicLongArray seconds = new AtomicLongArray(WINDOW_SECONDS + 1);

    void request(String endpoint, int status) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
    }

    void promptTokens(int n) {
        promptTokens.add(n);
    }

    void generatedToken() {
        generatedTokens.increment();
        long now = System.currentTimeMillis() / 1000;
        int slot = (int) (now % perSecond.length());
        long was = seconds.get(slot);
        if (was != now && seconds.compareAndSet(slot, was, now)) {
            perSecond.set(slot, 0);
        }
        perSecond.incrementAndGet(slot);
    }

    long generatedTokens() {
        return generatedTokens.sum();
    }

    /** Tokens generated per second over the last complete {@value #WINDOW_SECONDS} seconds. */
    double tokensPerSecond() {
        long now = System.currentTimeMillis() / 1000;
        long sum = 0;
        for (int i = 0; i < perSecond.length(); i++) {
            long s = seconds.get(i);
            if (s < now && s >= now - WINDOW_SECONDS) {
                sum += perSecond.get(i);
            }
        }
        return sum / (double) WINDOW_SECONDS;
    }

    /** The exposition text; {@code engine} gives the gauges. */
    String render(Engine engine) {
        StringBuilder out = new StringBuilder();
        out.append("# HELP stepslm_requests_total HTTP requests answered, by endpoint and status.\n");
        out.append("# TYPE stepslm_requests_total counter\n");
        requests.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String[] k = e.getKey().split("\u0000");
            out.append("stepslm_requests_total{endpoint=\"").append(k[0]).append("\",status=\"").append(k[1])
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        });
        counter(out, "stepslm_prompt_tokens_total", "Prompt tokens processed.", promptTokens.sum());
        counter(out, "stepslm_generated_tokens_total", "Tokens generated.", generatedTokens.sum());
        gauge(out, "stepslm_generated_tokens_per_second",
                "Tokens generated per second over the last " + WINDOW_SECONDS + " s.", tokensPerSecond());
        gauge(out, "stepslm_queue_depth", "Generations waiting for a slot.", engine.queued());
        gauge(out, "stepslm_busy_slots", "Slots generating now.", engine.busySlots());
        gauge(out, "stepslm_slots", "Slots (generations that run at once).", engine.slots());
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ')
                .append(String.format(Locale.ROOT, "%.3f", value)).append('\n');
    }
}
