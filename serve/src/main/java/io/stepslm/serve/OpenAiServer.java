package io.stepslm.serve;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.util.JavalinBindException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The HTTP server: OpenAI's completions, chat completions and models endpoints, llama.cpp's health, tokenize,
 * detokenize and metrics, on Javalin (Jetty). It binds before the model is loaded and answers 503 until
 * {@link #serve} hands it one, as llama.cpp does. Every refusal is an OpenAI error object; every request is one line
 * in the log.
 */
public final class OpenAiServer implements AutoCloseable {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    private static final String STARTED = "stepslm.started";
    private static final String NOTE = "stepslm.note";
    private static final java.util.Set<String> ENDPOINTS = java.util.Set.of("/health", "/metrics", "/v1/models",
            "/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize");

    private final ServeConfig config;
    private final PrintStream log;
    private final Metrics metrics = new Metrics();
    private final AtomicReference<ServedModel> served = new AtomicReference<>();
    private final Javalin app;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean stopping;

    private OpenAiServer(ServeConfig config, PrintStream log) {
        this.config = config;
        this.log = log;
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.http.maxRequestSize = config.maxBodyBytes();
            c.jetty.host = config.host();
            c.jetty.port = config.port();
            c.routes.before(this::authorize);
            c.routes.get("/health", this::health);
            c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.render(model().engine())));
            c.routes.get("/v1/models", this::models);
            c.routes.post("/v1/completions", ctx -> complete(ctx, false));
            c.routes.post("/v1/chat/completions", ctx -> complete(ctx, true));
            c.routes.post("/tokenize", this::tokenize);
            c.routes.post("/detokenize", this::detokenize);
            c.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e));
            c.routes.exception(InvalidField.class,
                    (e, ctx) -> error(ctx, ApiError.badField(e.field(), e.getMessage())));
            c.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiError(e.getStatus(),
                    e.getStatus() == 404 ? "not_found_error" : "invalid_request_error", null, null,
                    describe(e, ctx))));
            c.routes.exception(Exception.class, (e, ctx) -> {
                // a bug, not the client's fault: one line in the log, no stack trace to the client
                log.println("error: " + ctx.method() + " " + ctx.path() + ": " + e);
                error(ctx, new ApiError(500, "server_error", null, null, "internal error: " + e.getMessage()));
            });
            c.routes.after(this::logRequest);
        });
    }

    /** Binds and starts answering (503 until {@link #serve}); {@code log} gets one line per request. */
    public static OpenAiServer start(ServeConfig config, PrintStream log) {
        OpenAiServer server = new OpenAiServer(config, log);
        try {
            server.app.start();
        } catch (JavalinBindException e) {
            throw new IllegalArgumentException("cannot listen on " + config.host() + ":" + config.port() + " ("
                    + e.getMessage() + "): choose another --port or --host, or stop the program that uses it");
        }
        return server;
    }

    /** Starts serving {@code model} (until then every endpoint but /health answers 503). */
    public void serve(ServedModel model) {
        served.set(model);
    }

    /** The bound port (the chosen one when the config asked for port 0). */
    public int port() {
        return app.port();
    }

    /** The address clients use, e.g. {@code http://127.0.0.1:8080}. */
    public String address() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    /**
     * Stops taking requests (503), lets running generations finish within the grace period, cuts the rest with a
     * final error event, then stops Jetty. The engine belongs to the caller and is closed here too.
     */
    @Override
    public void close() {
        stopping = true;
        ServedModel model = served.get();
        if (model != null) {
            model.engine().shutdown(config.graceMillis());
        }
        // the cut generations' last events are still being written: let their handlers finish before Jetty closes
        // the connections (bounded, in case a client stopped reading)
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
    }

    private ServedModel model() {
        ServedModel model = served.get();
        if (stopping) {
            throw new ApiError(503, "unavailable_error", null, null, "the server is shutting down");
        }
        if (model == null) {
            throw new ApiError(503, "unavailable_error", null, null, "loading model: try again in a moment");
        }
        return model;
    }

    private void authorize(Context ctx) {
        ctx.attribute(STARTED, System.nanoTime());
        if (config.apiKey().isEmpty() || ctx.path().equals("/health")) {
            return;
        }
        String header = ctx.header("Authorization");
        byte[] expected = ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", null, "invalid_api_key", header == null
                    ? "no API key: send the header 'Authorization: Bearer KEY' with the key given to --api-key"
                    : "the API key is wrong: send the key given to --api-key as 'Authorization: Bearer KEY'");
        }
    }

    private void health(Context ctx) {
        if (stopping || served.get() == null) {
            error(ctx, new ApiError(503, "unavailable_error", null, null,
                    stopping ? "the server is shutting down" : "loading model"));
            return;
        }
        json(ctx, 200, JsonParser.parseString("{\"status\":\"ok\"}"));
    }

    private void models(Context ctx) {
        ServedModel model = model();
        JsonObject m = new JsonObject();
        m.addProperty("id", model.id());
        m.addProperty("object", "model");
        m.addProperty("created", 0);
        m.addProperty("owned_by", "stepslm");
        m.addProperty("context_length", model.contextLength());
        JsonObject meta = new JsonObject(); // llama.cpp's names
        meta.addProperty("n_ctx_train", model.contextLength());
        meta.addProperty("n_params", model.parameterCount());
        meta.addProperty("n_vocab", model.config().vocabSize());
        m.add("meta", meta);
        JsonArray data = new JsonArray();
        data.add(m);
        JsonObject out = new JsonObject();
        out.addProperty("object", "list");
        out.add("data", data);
        json(ctx, 200, out);
    }

    private void complete(Context ctx, boolean chat) throws IOException {
        inFlight.incrementAndGet();
        try {
            completeCounted(ctx, chat);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void completeCounted(Context ctx, boolean chat) throws IOException {
        ServedModel model = model();
        JsonObject body = body(ctx);
        JsonFields fields = new JsonFields(body);
        String asked = fields.string("model", model.id());
        if (!asked.equals(model.id())) {
            throw new ApiError(404, "invalid_request_error", "model", "model_not_found", "the model '" + asked
                    + "' does not exist: this server serves '" + model.id() + "' (see GET /v1/models)");
        }
        int capacity = model.engine().capacity();
        ApiRequest request = chat ? ApiRequest.chat(body, model, capacity)
                : ApiRequest.completion(body, model, capacity);
        CompletionRun run = new CompletionRun(model, request, metrics);
        if (!request.stream()) {
            JsonObject answer = run.respond();
            note(ctx, run);
            json(ctx, 200, answer);
            return;
        }
        // server-sent events written straight to the servlet stream, flushed per event
        ctx.res().setStatus(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        OutputStream out = ctx.res().getOutputStream();
        try {
            run.stream(chunk -> event(out, GSON.toJson(chunk)));
            event(out, "[DONE]");
            // completes the response now (the last chunk of the chunked encoding), not after this handler returns:
            // a shutdown waits for the handlers only, and must not close the connection before the end is written
            out.close();
            note(ctx, run);
        } catch (IOException e) {
            note(ctx, run);
            ctx.attribute(NOTE, ctx.attribute(NOTE) + " (client disconnected)");
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void tokenize(Context ctx) {
        ServedModel model = model();
        JsonFields f = new JsonFields(body(ctx));
        String content = f.string("content", null);
        if (content == null) {
            throw new InvalidField("content", "content is missing: send {\"content\": \"text to tokenize\"}");
        }
        int[] ids = content.isEmpty() ? new int[0] : ApiRequest.encode(content, model, "content");
        JsonArray tokens = new JsonArray();
        for (int id : ids) {
            tokens.add(id);
        }
        JsonObject out = new JsonObject();
        out.add("tokens", tokens);
        json(ctx, 200, out);
    }

    private void detokenize(Context ctx) {
        ServedModel model = model();
        JsonFields f = new JsonFields(body(ctx));
        if (!f.has("tokens")) {
            throw new InvalidField("tokens", "tokens is missing: send {\"tokens\": [token ids]}");
        }
        JsonArray array = f.array("tokens");
        int vocab = model.config().vocabSize();
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = JsonFields.asInt("tokens", array.get(i));
            if (ids[i] < 0 || ids[i] >= model.tokenizer().vocabSize()) {
                throw new InvalidField("tokens", "token " + ids[i] + " is outside the tokenizer's vocabulary: use 0.."
                        + (Math.min(vocab, model.tokenizer().vocabSize()) - 1));
            }
        }
        JsonObject out = new JsonObject();
        out.addProperty("content", model.tokenizer().decode(ids));
        json(ctx, 200, out);
    }

    private static JsonObject body(Context ctx) {
        String text = ctx.body();
        JsonElement e;
        try {
            e = JsonParser.parseString(text);
        } catch (JsonParseException ex) {
            Throwable why = ex.getCause() != null ? ex.getCause() : ex;
            throw new ApiError(400, "invalid_request_error", null, null, "the request body is not valid JSON ("
                    + why.getMessage() + "): send a JSON object");
        }
        if (!e.isJsonObject()) {
            throw new ApiError(400, "invalid_request_error", null, null, "the request body must be a JSON object, got "
                    + (text.length() > 40 ? text.substring(0, 40) + "..." : text));
        }
        return e.getAsJsonObject();
    }

    private String describe(HttpResponseException e, Context ctx) {
        return switch (e.getStatus()) {
            case 404 -> "no endpoint " + ctx.method() + " " + ctx.path() + ": see /v1/models, /v1/completions, "
                    + "/v1/chat/completions, /tokenize, /detokenize, /health, /metrics";
            case 405 -> "method " + ctx.method() + " is not allowed on " + ctx.path();
            case 413 -> "the request body is larger than the limit of " + config.maxBodyBytes()
                    + " bytes: send a smaller request";
            default -> e.getMessage();
        };
    }

    private void error(Context ctx, ApiError e) {
        if (e.status() == 503) {
            ctx.header("Retry-After", "1");
        }
        ctx.attribute(NOTE, e.getMessage());
        json(ctx, e.status(), e.body());
    }

    private static void json(Context ctx, int status, JsonElement body) {
        ctx.status(status).contentType("application/json").result(GSON.toJson(body));
    }

    private static void note(Context ctx, CompletionRun run) {
        int[] counts = run.tokenCounts();
        ctx.attribute(NOTE, "prompt " + counts[0] + " + completion " + counts[1] + " tokens");
    }

    private void logRequest(Context ctx) {
        int status = ctx.statusCode();
        // unknown paths share one label: a scanner must not grow the metrics without bound
        metrics.request(ENDPOINTS.contains(ctx.path()) ? ctx.path() : "other", status);
        if (ctx.path().equals("/health") || ctx.path().equals("/metrics")) {
            return; // polled by monitors: one line each would drown the log
        }
        Long started = ctx.attribute(STARTED);
        double ms = started == null ? 0 : (System.nanoTime() - started) / 1e6;
        Object note = ctx.attribute(NOTE);
        log.println(String.format(Locale.ROOT, "%s %s %d %.0f ms%s", ctx.method(), ctx.path(), status, ms,
                note == null ? "" : ": " + note));
    }
}
