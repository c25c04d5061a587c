package io.stepslm.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonElement;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.TokenLogprobs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

    private record TokenEvent(int choice, int token, String text, TokenLogprobs logprobs) implements Event { }

    private record EndEvent(int choice, Engine.Finish finish, String message) implements Event { }

    private static final class Choice {
        final int index;
        final int promptTokens;
        final StringBuilder content = new StringBuilder();
        final JsonArray logprobs = new JsonArray(); // chat: content entries; completions: one object per token
        int tokens;
        Engine.Finish finish;
        String message;
        Engine.Ticket ticket;

        Choice(int index, int promptTokens) {
            this.index = index;
            this.promptTokens = promptTokens;
        }
    }

    private final ServedModel model;
    private final ApiRequest request;
    private final Metrics metrics;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final Set<Integer> stopTokens;
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
        this.stopTokens = Set.of(model.tokenizer().endOfTextId());
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
            choice.add("logprobs", logprobs(c.logprobs));
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
                if (e instanceof TokenEvent t) {
                    if (firstTokenNanos == 0) {
                        firstTokenNanos = System.nanoTime();
                    }
                    c.tokens++;
                    metrics.generatedToken();
                    JsonArray tokenLogprobs = new JsonArray();
                    if (request.logprobs() >= 0) {
                        tokenLogprobs.add(logprob(t.logprobs(), c.content.length()));
                        c.logprobs.addAll(tokenLogprobs);
                    }
                    c.content.append(t.text());
                    if (out != null && (!t.text().isEmpty() || request.logprobs() >= 0)) {
                        JsonObject chunk = chunk(c, text(t.text()), null);
                        if (request.logprobs() >= 0) {
                            chunk.getAsJsonArray("choices").get(0).getAsJsonObject().add("logprobs",
                                    logprobs(tokenLogprobs));
                        }
                        out.send(chunk);
                    }
                } else {
                    EndEvent end = (EndEvent) e;
                    c.finish = end.finish();
                    c.message = end.message();
                    open--;
                    if (out != null) {
                        sendEnd(out, c);
                    }
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
        if (c.finish == Engine.Finish.CANCELLED) {
            return; // only this run cancels: the client is gone
        }
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
                Choice c = new Choice(choices.size(), prompt.length);
                choices.add(c);
            }
        }
        try {
            for (Choice c : choices) {
                int[] prompt = request.prompts().get(c.index / request.n());
                int index = c.index;
                GenerationConfig config = params.withSeed(params.seed() + index % request.n())
                        .toConfig(stopTokens, request.templateStops(), request.logprobs());
                c.ticket = model.engine().submit(prompt, config, new Engine.Listener() {
                            @Override
                            public void onToken(int token, String text, TokenLogprobs logprobs) {
                                events.add(new TokenEvent(index, token, text, logprobs));
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

    /**
     * One token's log-probabilities in OpenAI's shape: chat {@code {token, logprob, bytes, top_logprobs}},
     * completions {@code {token, logprob, top, offset}} (folded into the legacy arrays by {@link #logprobs}).
     */
    private JsonObject logprob(TokenLogprobs lp, int offset) {
        JsonObject o = new JsonObject();
        o.addProperty("token", piece(lp.token()));
        o.addProperty("logprob", finite(lp.logprob()));
        if (request.chat()) {
            o.add("bytes", bytes(piece(lp.token())));
            JsonArray top = new JsonArray();
            for (int i = 0; i < lp.topTokens().length; i++) {
                JsonObject alt = new JsonObject();
                alt.addProperty("token", piece(lp.topTokens()[i]));
                alt.addProperty("logprob", finite(lp.topLogprobs()[i]));
                alt.add("bytes", bytes(piece(lp.topTokens()[i])));
                top.add(alt);
            }
            o.add("top_logprobs", top);
        } else {
            JsonObject top = new JsonObject();
            for (int i = 0; i < lp.topTokens().length; i++) {
                top.addProperty(piece(lp.topTokens()[i]), finite(lp.topLogprobs()[i]));
            }
            o.add("top", top);
            o.addProperty("offset", offset);
        }
        return o;
    }

    /** A choice's (or a chunk's) log-probabilities; null when the request asked for none. */
    private JsonElement logprobs(JsonArray tokens) {
        if (request.logprobs() < 0) {
            return JsonNull.INSTANCE;
        }
        JsonObject out = new JsonObject();
        if (request.chat()) {
            out.add("content", tokens);
            out.add("refusal", JsonNull.INSTANCE);
            return out;
        }
        JsonArray text = new JsonArray();
        JsonArray logprob = new JsonArray();
        JsonArray top = new JsonArray();
        JsonArray offset = new JsonArray();
        for (JsonElement e : tokens) {
            JsonObject t = e.getAsJsonObject();
            text.add(t.get("token"));
            logprob.add(t.get("logprob"));
            top.add(t.get("top"));
            offset.add(t.get("offset"));
        }
        out.add("tokens", text);
        out.add("token_logprobs", logprob);
        out.add("top_logprobs", top);
        out.add("text_offset", offset);
        return out;
    }

    private String piece(int token) {
        return model.tokenizer().decode(new int[] {token});
    }

    private static JsonArray bytes(String text) {
        JsonArray out = new JsonArray();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            out.add(b & 0xff);
        }
        return out;
    }

    /** JSON has no -Infinity: a token the model rules out gets OpenAI's floor of -9999. */
    private static double finite(double logprob) {
        return Double.isFinite(logprob) ? logprob : -9999.0;
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
        choice.add("finish_reason",
                finishReason == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(finishReason));
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
