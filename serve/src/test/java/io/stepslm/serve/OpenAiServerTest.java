package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** Valid requests, streaming and every refusal, against a real server on a loopback port. */
class OpenAiServerTest {

    @AutoClose
    private static final TinyModel tiny = new TinyModel();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private OpenAiServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private Http start(ServeConfig config, int slots, int queue) {
        server = OpenAiServer.start(config.withPort(0), new PrintStream(log, true, StandardCharsets.UTF_8));
        server.serve(tiny.serve(slots, queue));
        return new Http(server.address(), config.apiKey());
    }

    private Http start() {
        return start(ServeConfig.defaults(), 2, 4);
    }

    @Test
    void healthModelsTokenizeDetokenizeAndMetrics() throws Exception {
        Http http = start();
        Http.Answer health = http.get("/health");
        assertEquals(200, health.status());
        assertEquals("ok", health.json().get("status").getAsString());

        JsonObject model = http.get("/v1/models").json().getAsJsonArray("data").get(0).getAsJsonObject();
        assertEquals(TinyModel.ID, model.get("id").getAsString());
        assertEquals(TinyModel.CONTEXT, model.get("context_length").getAsInt());
        assertEquals(tiny.model.parameterCount(), model.getAsJsonObject("meta").get("n_params").getAsLong());

        Http.Answer tokens = http.post("/tokenize", "{\"content\": \"Hi there\"}");
        assertEquals(200, tokens.status(), tokens.body());
        JsonArray ids = tokens.json().getAsJsonArray("tokens");
        assertEquals(8, ids.size());
        Http.Answer text = http.post("/detokenize", "{\"tokens\": " + ids + "}");
        assertEquals("Hi there", text.json().get("content").getAsString());

        // ignore_eos and a seed: a sampled end-of-text would generate fewer than the 3 tokens counted below
        http.post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 3, \"ignore_eos\": true, \"seed\": 1}");
        String metrics = http.get("/metrics").body();
        assertTrue(metrics.contains("stepslm_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1"), metrics);
        assertTrue(metrics.contains("stepslm_prompt_tokens_total 1\n"), metrics);
        assertTrue(metrics.contains("stepslm_generated_tokens_total 3\n"), metrics);
        assertTrue(metrics.contains("stepslm_slots 2.000") && metrics.contains("stepslm_busy_slots 0.000"), metrics);
        assertTrue(metrics.contains("# TYPE stepslm_queue_depth gauge"), metrics);
    }

    @Test
    void completionAnswersWithUsageFinishReasonAndTimings() throws Exception {
        Http http = start();
        Http.Answer a = http.post("/v1/completions",
                "{\"model\": \"tiny\", \"prompt\": \"Once\", \"max_tokens\": 12, \"seed\": 3, \"ignore_eos\": true}");
        assertEquals(200, a.status(), a.body());
        JsonObject body = a.json();
        assertEquals("text_completion", body.get("object").getAsString());
        JsonObject choice = body.getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(12, choice.get("text").getAsString().length(), "12 characters of a character model");
        assertEquals("length", choice.get("finish_reason").getAsString());
        JsonObject usage = body.getAsJsonObject("usage");
        assertEquals(4, usage.get("prompt_tokens").getAsInt());
        assertEquals(12, usage.get("completion_tokens").getAsInt());
        assertEquals(16, usage.get("total_tokens").getAsInt());
        assertEquals(12, body.getAsJsonObject("timings").get("predicted_n").getAsInt());

        // the same seed gives the same text; echo puts the prompt in front
        Http.Answer echo = http.post("/v1/completions",
                "{\"prompt\": \"Once\", \"max_tokens\": 12, \"seed\": 3, \"ignore_eos\": true, \"echo\": true}");
        assertEquals("Once" + choice.get("text").getAsString(), echo.json().getAsJsonArray("choices").get(0)
                .getAsJsonObject().get("text").getAsString());

        // a stop string ends the text before it, with finish_reason "stop"
        String text = choice.get("text").getAsString();
        String stop = text.substring(5, 7);
        Http.Answer stopped = http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 12, \"seed\": 3, "
                + "\"ignore_eos\": true, \"stop\": " + JsonParser.parseString("\"" + escape(stop) + "\"") + "}");
        JsonObject s = stopped.json().getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(text.substring(0, text.indexOf(stop)), s.get("text").getAsString());
        assertEquals("stop", s.get("finish_reason").getAsString());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("POST /v1/completions 200"), log.toString());
    }

    @Test
    void samplingControlsAndLogprobsReachTheGenerator() throws Exception {
        Http http = start();
        int x = tiny.tokenizer.encode("x")[0];
        JsonObject biased = http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 8, \"seed\": 2, "
                + "\"logit_bias\": {\"" + x + "\": 100}}").json().getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals("xxxxxxxx", biased.get("text").getAsString());

        JsonObject lp = http.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 6, \"seed\": 2, "
                + "\"logprobs\": 2, \"ignore_eos\": true}").json().getAsJsonArray("choices").get(0).getAsJsonObject()
                .getAsJsonObject("logprobs");
        assertEquals(6, lp.getAsJsonArray("tokens").size());
        assertEquals(6, lp.getAsJsonArray("token_logprobs").size());
        assertTrue(lp.getAsJsonArray("token_logprobs").get(0).getAsDouble() <= 0);
        assertEquals(2, lp.getAsJsonArray("top_logprobs").get(0).getAsJsonObject().size());
        assertEquals(0, lp.getAsJsonArray("text_offset").get(0).getAsInt());

        JsonObject chat = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": "
                + "\"Hi\"}], \"max_tokens\": 4, \"ignore_eos\": true, \"logprobs\": true, \"top_logprobs\": 3}")
                .json().getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("logprobs");
        JsonObject first = chat.getAsJsonArray("content").get(0).getAsJsonObject();
        assertEquals(3, first.getAsJsonArray("top_logprobs").size());
        assertTrue(first.has("token") && first.has("bytes") && first.get("logprob").getAsDouble() <= 0,
                first.toString());
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    @Test
    void streamedTextEqualsTheNonStreamedTextWithTheSameSeed() throws Exception {
        Http http = start();
        String completion = "{\"prompt\": [\"The\", \"A\"], \"max_tokens\": 20, \"seed\": 11, \"n\": 2, "
                + "\"temperature\": 0.9, \"top_p\": 0.95";
        JsonArray whole = http.post("/v1/completions", completion + "}").json().getAsJsonArray("choices");
        List<String> events = http.stream("/v1/completions", completion
                + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        assertEquals("[DONE]", events.get(events.size() - 1));
        String[] streamed = Http.streamedText(events, 4);
        for (int i = 0; i < 4; i++) {
            assertEquals(whole.get(i).getAsJsonObject().get("text").getAsString(), streamed[i], "choice " + i);
        }
        JsonObject usage = JsonParser.parseString(events.get(events.size() - 2)).getAsJsonObject()
                .getAsJsonObject("usage");
        assertEquals(2 * 3 + 2 * 1, usage.get("prompt_tokens").getAsInt(), "each prompt counted once per choice");

        String chat = "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", "
                + "\"content\": \"Hello\"}], \"max_tokens\": 30, \"seed\": 5";
        JsonObject message = http.post("/v1/chat/completions", chat + "}").json().getAsJsonArray("choices").get(0)
                .getAsJsonObject().getAsJsonObject("message");
        assertEquals("assistant", message.get("role").getAsString());
        List<String> chatEvents = http.stream("/v1/chat/completions", chat + ", \"stream\": true}");
        assertEquals("[DONE]", chatEvents.get(chatEvents.size() - 1));
        JsonObject first = JsonParser.parseString(chatEvents.get(0)).getAsJsonObject();
        assertEquals("chat.completion.chunk", first.get("object").getAsString());
        assertEquals("assistant", first.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("delta")
                .get("role").getAsString());
        assertEquals(message.get("content").getAsString(), Http.streamedText(chatEvents, 1)[0]);
        JsonObject last = JsonParser.parseString(chatEvents.get(chatEvents.size() - 2)).getAsJsonObject();
        String reason = last.getAsJsonArray("choices").get(0).getAsJsonObject().get("finish_reason").getAsString();
        assertTrue(reason.equals("stop") || reason.equals("length"), reason);
    }

    @Test
    void chatStopsAtTheTemplatesTurnMarker() throws Exception {
        Http http = start();
        ChatTemplate open = new ChatTemplate("{content}\n", "Q: {content}\n", "A: {content}\n", "A:", List.of());
        ServedModel base = tiny.serve(2, 4);
        server.serve(new ServedModel(base.id(), base.tokenizer(), base.config(), base.parameterCount(), base.engine(),
                open));
        String request = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 40, "
                + "\"seed\": 8, \"ignore_eos\": true}";
        String free = http.post("/v1/chat/completions", request).json().getAsJsonArray("choices").get(0)
                .getAsJsonObject().getAsJsonObject("message").get("content").getAsString();
        assertTrue(free.length() > 12, free);
        // a template whose turn marker is a piece of that reply: the reply ends just before it
        String marker = free.substring(10, 12);
        server.serve(new ServedModel(base.id(), base.tokenizer(), base.config(), base.parameterCount(), base.engine(),
                new ChatTemplate(open.system(), open.user(), open.assistant(), open.generation(), List.of(marker))));
        JsonObject choice = http.post("/v1/chat/completions", request).json().getAsJsonArray("choices").get(0)
                .getAsJsonObject();
        assertEquals(free.substring(0, free.indexOf(marker)), choice.getAsJsonObject("message").get("content")
                .getAsString());
        assertEquals("stop", choice.get("finish_reason").getAsString());
    }

    @Test
    void badRequestsGetOpenAiErrorObjects() throws Exception {
        Http http = start(ServeConfig.defaults().withApiKey("sekrit"), 1, 1);
        Http noKey = new Http(server.address(), "");
        Http wrongKey = new Http(server.address(), "guess");
        assertEquals(200, noKey.get("/health").status(), "health needs no key");
        refused(noKey.post("/v1/completions", "{\"prompt\": \"a\"}"), 401, null, "Authorization: Bearer");
        refused(wrongKey.get("/v1/models"), 401, null, "wrong");

        refused(http.post("/v1/completions", "{\"prompt\": \"a\""), 400, null, "not valid JSON");
        refused(http.post("/v1/completions", "[1, 2]"), 400, null, "must be a JSON object");
        refused(http.post("/v1/completions", "{\"max_tokens\": 3}"), 400, "prompt", "prompt is missing");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"temperature\": \"hot\"}"), 400, "temperature",
                "must be a number");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"temperature\": 3}"), 400, "temperature",
                "[0.0, 2.0]");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 1.5}"), 400, "max_tokens",
                "integer");
        refused(http.post("/v1/completions", "{\"prompt\": \"ab\", \"max_tokens\": 1000}"), 400, "max_tokens",
                "outside 0.." + (TinyModel.CONTEXT - 2));
        refused(http.post("/v1/completions", "{\"prompt\": \"" + "x".repeat(TinyModel.CONTEXT + 1) + "\"}"), 400,
                "prompt", "send 1.." + TinyModel.CONTEXT + " tokens");
        refused(http.post("/v1/completions", "{\"prompt\": [1, 99999]}"), 400, "prompt", "outside the vocabulary");
        refused(http.post("/v1/completions", "{\"prompt\": \"caf\u00e9\"}"), 400, "prompt", "cannot be encoded");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"n\": 5}"), 400, "n", "at most 2");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}"),
                400, "stop", "at most 4");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"logit_bias\": {\"3\": 500}}"), 400, "logit_bias",
                "[-100, 100]");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"logprobs\": 9}"), 400, "logprobs", "0..5");
        refused(http.post("/v1/completions", "{\"prompt\": \"a\", \"suffix\": \"z\"}"), 400, "suffix",
                "not supported");
        refused(http.post("/v1/completions", "{\"model\": \"gpt-4o\", \"prompt\": \"a\"}"), 404, "model",
                "'gpt-4o' does not exist");
        refused(http.post("/v1/chat/completions", "{\"messages\": []}"), 400, "messages", "empty");
        refused(http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}"), 400,
                "messages", "role \"tool\"");
        refused(http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], "
                + "\"top_logprobs\": 2}"), 400, "top_logprobs", "needs \"logprobs\": true");
        refused(http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], "
                + "\"tools\": [{\"type\": \"function\"}]}"), 400, "tools", "not supported");
        refused(http.post("/detokenize", "{\"tokens\": [\"a\"]}"), 400, "tokens", "must be a number");
        refused(http.post("/v1/completions", "{\"prompt\": \"" + "x".repeat(1 << 20) + "\"}"), 413, null,
                "larger than the limit of " + (1 << 20) + " bytes");
        refused(http.get("/v1/engines"), 404, null, "no endpoint GET /v1/engines");
        String logged = log.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("POST /v1/completions 400") && !logged.contains("Exception"), logged);
    }

    private static void refused(Http.Answer a, int status, String param, String message) {
        assertEquals(status, a.status(), a.body());
        JsonObject error = a.error();
        assertTrue(error.get("message").getAsString().contains(message), error.toString());
        assertTrue(error.has("type") && error.has("code"), error.toString());
        if (param == null) {
            assertTrue(error.get("param").isJsonNull(), error.toString());
        } else {
            assertEquals(param, error.get("param").getAsString(), error.toString());
        }
    }

    @Test
    void beforeTheModelIsLoadedEverythingAnswers503() throws Exception {
        server = OpenAiServer.start(ServeConfig.defaults().withPort(0), new PrintStream(log, true,
                StandardCharsets.UTF_8));
        Http http = new Http(server);
        Http.Answer health = http.get("/health");
        assertEquals(503, health.status());
        assertEquals("1", health.response().headers().firstValue("Retry-After").orElse(""));
        assertEquals(503, http.post("/v1/completions", "{\"prompt\": \"a\"}").status());
        server.serve(tiny.serve(1, 0));
        assertEquals(200, http.get("/health").status());
    }
}
