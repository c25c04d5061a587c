package io.stepslm.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One completion or chat request on the engine: submits every choice, turns each choice's tokens into text (stop
 * strings included) and answers either as one OpenAI response body or as OpenAI's stream of chunks. The decoding
 * threads only put events on a queue; this runs on the request's HTTP thread, so a slow or vanished client never
 * stalls a slot, and a failed write cancels the request's generations at once.
 */
final class CompletionRun {

    /** Where streamed chunks go: one server-sent event each. */
    interface Chunks {
        void send(JsonObject chunk) throws IOException;
    }

    private sealed interface Event permits TokenEvent, EndEvent {
        int choice();
    }

    private record TokenEvent(int choice, int token) implements Event { }

    private record EndEvent(int choice, Engine.Finish finish, String message) implements Event { }

    private static final class Choice {
        final int index;
        final int promptTokens;
        final TextStream text;
        final StringBuilder content = new StringBuilder();
        int tokens;
        boolean stopString;
        Engine.Finish finish;
        String message;
        Engine.Ticket ticket;

        Choice(int index, int promptTokens, TextStream text) {
            this.index = index;
            this.promptTokens = promptTokens;
            this.text = text;
        }
    }

    private final ServedModel model;
    private final ApiRequest request;
    private final Metrics metrics;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final Set<Integer> stopTokens;
    private final int endOfText;
    private final List<Choice> choices = new ArrayList<>();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private long startNanos;
    private long firstTokenNanos;
    private long endNanos;

    CompletionRun(ServedModel model, ApiRequest request, Metrics metrics) {
        this.model = model;
        this.request = request;
        this.metrics = metrics;
        this.id = (request.chat() ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        this.endOfText = model.tokenizer().endOfTextId();
        this.stopTokens = request.params().ignoreEos() ? Set.of() : Set.of(model.tokenizer().endOfTextId());
    }

    /** The non-streamed answer; a generation cut by shutdown or failure is an error for the whole request. */
    JsonObject respond() {
        try {
            drive(null);
        } catch (IOException e) {
            throw new IllegalStateException("unreachable: nothing is written while collecting", e);
        }
        for (Choice c : choices) {
            if (c.finish == Engine.Finish.SHUTDOWN) {
                throw new ApiError(503, "unavailable_error", null, null, "the server is shutting down: try again");
            }
            if (c.finish == Engine.Finish.ERROR) {
                throw new ApiError(500, "server_error", null, null, "generation failed: " + c.message);
            }
        }
        JsonObject out = envelope(request.chat() ? "chat.completion" : "text_completion");
        JsonArray array = new JsonArray();
        for (Choice c : choices) {
            JsonObject choice = new JsonObject();
            choice.addProperty("index", c.index);
            if (request.chat()) {
                JsonObject message = new JsonObject();
                message.addProperty("role", "assistant");
                message.addProperty("content", c.content.toString());
                choice.add("message", message);
            } else {
                choice.addProperty("text", c.content.toString());
            }
            choice.add("logprobs", JsonNull.INSTANCE);
            choice.addProperty("finish_reason", finishReason(c));
            array.add(choice);
        }
        out.add("choices", array);
        out.add("usage", usage());
        out.add("timings", timings());
        return out;
    }

    /** Streams the answer as OpenAI's chunks; a write that fails (the client left) cancels every generation. */
    void stream(Chunks out) throws IOException {
        drive(out);
        if (request.includeUsage()) {
            JsonObject last = envelope(request.chat() ? "chat.completion.chunk" : "text_completion");
            last.add("choices", new JsonArray());
            last.add("usage", usage());
            last.add("timings", timings());
            out.send(last);
        }
    }

    /** Prompt and completion tokens over all choices (OpenAI counts each prompt once per choice). */
    int[] tokenCounts() {
        int prompt = 0;
        int completion = 0;
        for (Choice c : choices) {
            prompt += c.promptTokens;
            completion += c.tokens;
        }
        return new int[] {prompt, completion};
    }

    private void drive(Chunks out) throws IOException {
        startNanos = System.nanoTime();
        submitAll();
        try {
            if (out != null && request.chat()) {
                for (Choice c : choices) {
                    JsonObject delta = new JsonObject();
                    delta.addProperty("role", "assistant");
                    delta.addProperty("content", "");
                    out.send(chunk(c, delta, null));
                }
            }
            if (request.echo()) {
                for (Choice c : choices) {
                    String prompt = request.promptTexts().get(c.index / request.n());
                    c.content.append(prompt);
                    if (out != null) {
                        out.send(chunk(c, text(prompt), null));
                    }
                }
            }
            int open = choices.size();
            while (open > 0) {
                Event e = events.take();
                Choice c = choices.get(e.choice());
                String delta;
                if (e instanceof TokenEvent t) {
                    if (firstTokenNanos == 0) {
                        firstTokenNanos = System.nanoTime();
                    }
                    c.tokens++;
                    metrics.generatedToken();
                    // the end-of-text token separates documents: counted, never shown (also with ignore_eos)
                    delta = t.token() == endOfText ? "" : c.text.accept(t.token());
                    if (c.text.stopped() && !c.stopString) {
                        c.stopString = true;
                        c.ticket.cancel();
                    }
                } else {
                    EndEvent end = (EndEvent) e;
                    delta = c.text.flush();
                    c.finish = c.stopString ? Engine.Finish.STOP : end.finish();
                    c.message = end.message();
                    open--;
                }
                c.content.append(delta);
                if (out != null && !delta.isEmpty()) {
                    out.send(chunk(c, text(delta), null));
                }
                if (out != null && c.finish != null && e instanceof EndEvent) {
                    sendEnd(out, c);
                }
            }
        } catch (IOException | RuntimeException e) {
            cancelAll();
            throw e;
        } catch (InterruptedException e) {
            cancelAll();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } finally {
            endNanos = System.nanoTime();
        }
    }

    private void sendEnd(Chunks out, Choice c) throws IOException {
        if (c.finish == Engine.Finish.SHUTDOWN || c.finish == Engine.Finish.ERROR) {
            // OpenAI streams an error as a data event holding the error object
            String message = c.finish == Engine.Finish.SHUTDOWN
                    ? "the server is shutting down: the generation was cut after " + c.tokens + " tokens"
                    : "generation failed: " + c.message;
            out.send(new ApiError(c.finish == Engine.Finish.SHUTDOWN ? 503 : 500, "server_error", null, null, message)
                    .body());
            return;
        }
        out.send(chunk(c, request.chat() ? new JsonObject() : text(""), finishReason(c)));
    }

    private void submitAll() {
        SamplingParams params = request.params();
        for (int p = 0; p < request.prompts().size(); p++) {
            int[] prompt = request.prompts().get(p);
            metrics.promptTokens(prompt.length * request.n());
            for (int j = 0; j < request.n(); j++) {
                Choice c = new Choice(choices.size(), prompt.length, new TextStream(model.tokenizer(), request.stops()));
                choices.add(c);
            }
        }
        try {
            for (Choice c : choices) {
                int[] prompt = request.prompts().get(c.index / request.n());
                int index = c.index;
                c.ticket = model.engine().submit(prompt, params.withSeed(params.seed() + index % request.n()),
                        stopTokens, new Engine.Listener() {
                            @Override
                            public void onToken(int token) {
                                events.add(new TokenEvent(index, token));
                            }

                            @Override
                            public void onEnd(Engine.Finish finish, String message) {
                                events.add(new EndEvent(index, finish, message));
                            }
                        });
            }
        } catch (Engine.QueueFullException e) {
            cancelAll();
            throw new ApiError(503, "unavailable_error", null, null, e.getMessage() + ": retry later");
        }
    }

    private void cancelAll() {
        for (Choice c : choices) {
            if (c.ticket != null) {
                c.ticket.cancel();
            }
        }
    }

    private String finishReason(Choice c) {
        return c.finish == Engine.Finish.STOP ? "stop" : "length";
    }

    private JsonObject text(String delta) {
        JsonObject o = new JsonObject();
        if (request.chat()) {
            o.addProperty("content", delta);
        } else {
            o.addProperty("text", delta);
        }
        return o;
    }

    /** A streamed chunk: chat chunks carry a {@code delta}, completion chunks the {@code text} itself. */
    private JsonObject chunk(Choice c, JsonObject delta, String finishReason) {
        JsonObject out = envelope(request.chat() ? "chat.completion.chunk" : "text_completion");
        JsonObject choice = new JsonObject();
        choice.addProperty("index", c.index);
        if (request.chat()) {
            choice.add("delta", delta);
        } else {
            choice.add("text", delta.get("text"));
        }
        choice.add("logprobs", JsonNull.INSTANCE);
        choice.add("finish_reason", finishReason == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(finishReason));
        JsonArray array = new JsonArray();
        array.add(choice);
        out.add("choices", array);
        return out;
    }

    private JsonObject envelope(String object) {
        JsonObject out = new JsonObject();
        out.addProperty("id", id);
        out.addProperty("object", object);
        out.addProperty("created", created);
        out.addProperty("model", model.id());
        return out;
    }

    private JsonObject usage() {
        int[] counts = tokenCounts();
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", counts[0]);
        usage.addProperty("completion_tokens", counts[1]);
        usage.addProperty("total_tokens", counts[0] + counts[1]);
        return usage;
    }

    /** llama.cpp's timings: until the first token (queue + prefill) and after it (decoding). */
    private JsonObject timings() {
        int[] counts = tokenCounts();
        long first = firstTokenNanos == 0 ? endNanos : firstTokenNanos;
        double promptMs = (first - startNanos) / 1e6;
        double predictedMs = (endNanos - first) / 1e6;
        JsonObject t = new JsonObject();
        t.addProperty("prompt_n", counts[0]);
        t.addProperty("prompt_ms", promptMs);
        t.addProperty("predicted_n", counts[1]);
        t.addProperty("predicted_ms", predictedMs);
        t.addProperty("predicted_per_second", predictedMs > 0 ? counts[1] / (predictedMs / 1000) : 0);
        return t;
    }
}
