package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** The chat loop on JLine's dumb terminal with piped streams: lines in, streamed replies out, Ctrl-D (EOF) ends. */
class ChatLoopTest {

    @AutoClose
    private static final TinyModel tiny = new TinyModel();

    private static String chat(ServedModel model, boolean raw, String input) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Terminal terminal = new DumbTerminal("test", "dumb", new ByteArrayInputStream(
                input.getBytes(StandardCharsets.UTF_8)), out, StandardCharsets.UTF_8)) {
            ChatLoop loop = new ChatLoop(model, terminal, raw, SamplingParams.defaults(200, 1));
            // bounded: a loop that never sees the end of its input fails the test instead of hanging it
            CompletableFuture.runAsync(loop::run).get(60, TimeUnit.SECONDS);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aPromptASetCommandAndCtrlD() throws Exception {
        try (ServedModel model = tiny.serve(1, 0)) {
            String out = chat(model, false, "/set temperature 0.5\n/set seed 3\n/set max_tokens 25\n"
                    + "/set top_p 7\n/set colour blue\n/show\nHello there\n");
            assertTrue(out.contains("temperature = 0.5"), out);
            assertTrue(out.contains("top_p 7.0 must be in (0, 1] (1 = off) (kept the old value)"), out);
            assertTrue(out.contains("usage: /set KEY VALUE with KEY one of temperature"), out);
            assertTrue(out.contains("temperature 0.5, top_p 1.0"), out);

            // the reply is what the chat API gives for the same conversation and settings
            String expected = new CompletionRun(model, ApiRequest.chat(JsonParser.parseString("{\"messages\": "
                    + "[{\"role\": \"user\", \"content\": \"Hello there\"}], \"temperature\": 0.5, \"seed\": 3, "
                    + "\"max_tokens\": 25}").getAsJsonObject(), model, 1), new Metrics()).respond()
                    .getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message").get("content")
                    .getAsString();
            assertTrue(!expected.isEmpty());
            assertTrue(out.contains(expected + "\n"), "expected reply " + expected + " in\n" + out);
        }
    }

    @Test
    void rawModeContinuesTheTextAndResetForgetsIt() throws Exception {
        try (ServedModel model = tiny.serve(1, 0)) {
            String out = chat(model, true, "/set max_tokens 10\n/set seed 4\nOnce upon\n/reset\n/help\n");
            assertTrue(out.contains("(raw continuation)"), out);
            assertTrue(out.contains("(conversation forgotten)"), out);
            assertTrue(out.contains("Ctrl-C stops a reply, Ctrl-D exits."), out);
            String expected = new CompletionRun(model, ApiRequest.completion(JsonParser.parseString("{\"prompt\": "
                    + "\"Once upon\", \"max_tokens\": 10, \"seed\": 4}").getAsJsonObject(), model, 1), new Metrics())
                    .respond().getAsJsonArray("choices").get(0).getAsJsonObject().get("text").getAsString();
            assertTrue(out.contains(expected), "expected continuation " + expected + " in\n" + out);
        }
    }
}
