package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request bodies in the shape the official openai-python (1.x) and openai-node (4.x/5.x) clients send (test
 * resources {@code openai/*.json}: the fields each create() call puts in the body, in the clients' order, with chat
 * content as strings or text parts, prompts as a string, a list of strings or token ids) are accepted, and the
 * answers carry the fields those clients read.
 */
class OpenAiClientShapeTest {

    private static TinyModel tiny;
    private static OpenAiServer server;

    @BeforeAll
    static void start() {
        tiny = new TinyModel();
        server = OpenAiServer.start(ServeConfig.defaults().withPort(0), new PrintStream(new ByteArrayOutputStream(),
                true, StandardCharsets.UTF_8));
        server.serve(tiny.serve(2, 8));
    }

    @AfterAll
    static void stop() {
        server.close();
        tiny.close();
    }

    private static String fixture(String name) throws Exception {
        try (InputStream in = OpenAiClientShapeTest.class.getResourceAsStream("/openai/" + name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"python-chat-stream.json", "python-chat.json", "python-completions-string.json",
            "python-completions-list.json", "python-completions-token-ids.json", "node-chat-stream.json",
            "node-completions.json"})
    void recordedClientRequestsAreAnswered(String name) throws Exception {
        String body = fixture(name);
        JsonObject request = JsonParser.parseString(body).getAsJsonObject();
        boolean chat = request.has("messages");
        String path = chat ? "/v1/chat/completions" : "/v1/completions";
        int prompts = 1;
        if (!chat && request.get("prompt").isJsonArray()) {
            JsonElement first = request.getAsJsonArray("prompt").get(0);
            boolean tokenIds = first.isJsonPrimitive() && first.getAsJsonPrimitive().isNumber();
            prompts = tokenIds ? 1 : request.getAsJsonArray("prompt").size();
        }
        int choices = prompts * (request.has("n") ? request.get("n").getAsInt() : 1);
        Http http = new Http(server);
        if (request.has("stream") && request.get("stream").getAsBoolean()) {
            List<String> events = http.stream(path, body);
            assertEquals("[DONE]", events.get(events.size() - 1));
            boolean usage = request.has("stream_options");
            for (String e : events.subList(0, events.size() - 1)) {
                JsonObject chunk = JsonParser.parseString(e).getAsJsonObject();
                assertEquals(chat ? "chat.completion.chunk" : "text_completion", chunk.get("object").getAsString());
                assertTrue(chunk.has("id") && chunk.has("created") && chunk.get("model").getAsString().equals("tiny"));
                for (JsonElement c : chunk.getAsJsonArray("choices")) {
                    JsonObject choice = c.getAsJsonObject();
                    assertTrue(choice.get("index").getAsInt() < choices, e);
                    assertTrue(choice.has("finish_reason"), e);
                    assertTrue(chat ? choice.has("delta") : choice.has("text"), e);
                }
            }
            JsonObject last = JsonParser.parseString(events.get(events.size() - 2)).getAsJsonObject();
            if (usage) {
                assertEquals(0, last.getAsJsonArray("choices").size());
                assertTrue(last.getAsJsonObject("usage").get("completion_tokens").getAsInt() > 0, last.toString());
            }
            return;
        }
        Http.Answer a = http.post(path, body);
        assertEquals(200, a.status(), a.body());
        JsonObject json = a.json();
        assertEquals(chat ? "chat.completion" : "text_completion", json.get("object").getAsString());
        assertEquals(choices, json.getAsJsonArray("choices").size());
        for (JsonElement c : json.getAsJsonArray("choices")) {
            JsonObject choice = c.getAsJsonObject();
            assertTrue(List.of("stop", "length").contains(choice.get("finish_reason").getAsString()));
            if (chat) {
                assertEquals("assistant", choice.getAsJsonObject("message").get("role").getAsString());
            } else if (request.has("echo")) {
                assertTrue(choice.get("text").getAsString().startsWith(request.get("prompt").getAsString()));
            }
        }
        JsonObject usage = json.getAsJsonObject("usage");
        assertEquals(usage.get("prompt_tokens").getAsInt() + usage.get("completion_tokens").getAsInt(),
                usage.get("total_tokens").getAsInt());
    }

    @Test
    void theModelListIsWhatClientsList() throws Exception {
        JsonObject list = new Http(server).get("/v1/models").json();
        assertEquals("list", list.get("object").getAsString());
        JsonObject model = list.getAsJsonArray("data").get(0).getAsJsonObject();
        assertEquals("model", model.get("object").getAsString());
        assertTrue(model.has("created") && model.has("owned_by"));
    }
}
