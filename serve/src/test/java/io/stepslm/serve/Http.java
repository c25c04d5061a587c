package io.stepslm.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A loopback client for tests: every request bounded in time, bodies parsed as JSON, streams as SSE data lines. */
final class Http {

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    record Answer(int status, String body, HttpResponse<?> response) {
        JsonObject json() {
            return JsonParser.parseString(body).getAsJsonObject();
        }

        JsonObject error() {
            return json().getAsJsonObject("error");
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String apiKey;

    Http(String base, String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    Http(OpenAiServer server) {
        this(server.address(), "");
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT);
        if (!apiKey.isEmpty()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    Answer get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request(path).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Answer(r.statusCode(), r.body(), r);
    }

    Answer post(String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Answer(r.statusCode(), r.body(), r);
    }

    /** The data of every server-sent event of a streamed answer, in order (the last should be [DONE]). */
    List<String> stream(String path, String body) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = client.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            throw new AssertionError("status " + r.statusCode() + ": " + new String(r.body().readAllBytes(),
                    StandardCharsets.UTF_8));
        }
        if (!r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
            throw new AssertionError("not an event stream: " + r.headers());
        }
        List<String> data = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("data: ")) {
                    data.add(line.substring("data: ".length()));
                } else if (!line.isEmpty()) {
                    throw new AssertionError("unexpected line in the event stream: " + line);
                }
            }
        }
        return data;
    }

    /** The concatenated text of a streamed completion or chat answer, choice by choice. */
    static String[] streamedText(List<String> events, int choices) {
        StringBuilder[] text = new StringBuilder[choices];
        for (int i = 0; i < choices; i++) {
            text[i] = new StringBuilder();
        }
        for (String e : events.subList(0, events.size() - 1)) {
            JsonObject chunk = JsonParser.parseString(e).getAsJsonObject();
            for (JsonElement c : chunk.getAsJsonArray("choices")) {
                JsonObject choice = c.getAsJsonObject();
                JsonElement piece = choice.has("delta") ? choice.getAsJsonObject("delta").get("content")
                        : choice.get("text");
                if (piece != null && !piece.isJsonNull()) {
                    text[choice.get("index").getAsInt()].append(piece.getAsString());
                }
            }
        }
        String[] out = new String[choices];
        for (int i = 0; i < choices; i++) {
            out[i] = text[i].toString();
        }
        return out;
    }
}
