package io.stepslm.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** Concurrent clients, a full queue, a client that leaves mid-stream and a shutdown mid-stream. */
class LoadBehaviourTest {

    @AutoClose
    private static final TinyModel tiny = new TinyModel();
    @AutoClose
    private static final TinyModel slow = TinyModel.slow();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private OpenAiServer start(ServedModel model, long graceMillis) {
        ServeConfig d = ServeConfig.defaults();
        OpenAiServer server = OpenAiServer.start(new ServeConfig(d.host(), 0, "", d.maxBodyBytes(), graceMillis),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        server.serve(model);
        return server;
    }

    /** What a request gets: its choices' texts, streamed or not. */
    private static String answer(Http http, String path, String body) throws Exception {
        if (body.contains("\"stream\": true")) {
            return String.join("|", Http.streamedText(http.stream(path, body), 2));
        }
        JsonObject json = http.post(path, body).json();
        StringBuilder out = new StringBuilder();
        for (var c : json.getAsJsonArray("choices")) {
            JsonObject choice = c.getAsJsonObject();
            out.append(choice.has("message") ? choice.getAsJsonObject("message").get("content").getAsString()
                    : choice.get("text").getAsString()).append('|');
        }
        return out.toString();
    }

    @Test
    void concurrentClientsGetExactlyWhatEachGetsAlone() throws Exception {
        List<String[]> requests = List.of(
                new String[] {"/v1/completions", "{\"prompt\": \"It is\", \"max_tokens\": 60, \"seed\": 1}"},
                new String[] {"/v1/completions", "{\"prompt\": \"It is\", \"max_tokens\": 60, \"seed\": 2, "
                        + "\"temperature\": 0.5, \"top_k\": 5}"},
                new String[] {"/v1/completions", "{\"prompt\": \"Then\", \"max_tokens\": 80, \"temperature\": 0}"},
                new String[] {"/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 70, \"seed\": 4, \"n\": 2, "
                        + "\"top_p\": 0.8, \"stream\": true}"},
                new String[] {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                        + "\"max_tokens\": 50, \"seed\": 5}"},
                new String[] {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Yo\"}], "
                        + "\"max_tokens\": 50, \"seed\": 6, \"n\": 2, \"stream\": true}"});
        List<String> alone = new ArrayList<>();
        try (OpenAiServer server = start(tiny.serve(1, 8), 0)) {
            Http http = new Http(server);
            for (String[] r : requests) {
                alone.add(answer(http, r[0], r[1]));
            }
        }
        ExecutorService clients = Executors.newFixedThreadPool(requests.size());
        try (OpenAiServer server = start(tiny.serve(4, 8), 0)) {
            Http http = new Http(server);
            for (int round = 0; round < 2; round++) {
                List<Future<String>> together = new ArrayList<>();
                for (String[] r : requests) {
                    together.add(clients.submit((Callable<String>) () -> answer(http, r[0], r[1])));
                }
                for (int i = 0; i < requests.size(); i++) {
                    assertEquals(alone.get(i), together.get(i).get(60, TimeUnit.SECONDS), "request " + i);
                }
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter() throws Exception {
        ServedModel model = tiny.serve(1, 1);
        try (OpenAiServer server = start(model, 0)) {
            Http http = new Http(server);
            // hold the slot and the queue place from inside, for as long as the test needs
            BatchEngineTest.Held running = new BatchEngineTest.Held();
            BatchEngineTest.Held queued = new BatchEngineTest.Held();
            var fiveTokens = SamplingParams.defaults(5, 1).toConfig(Set.of(), List.of(), -1);
            model.engine().submit(new int[] {1}, fiveTokens, running);
            assertTrue(running.started.await(30, TimeUnit.SECONDS));
            model.engine().submit(new int[] {1}, fiveTokens, queued);
            String metrics = http.get("/metrics").body();
            assertTrue(metrics.contains("stepslm_busy_slots 1.000") && metrics.contains("stepslm_queue_depth 1.000"),
                    metrics);
            Http.Answer busy = http.post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 5}");
            assertEquals(503, busy.status(), busy.body());
            assertEquals("1", busy.response().headers().firstValue("Retry-After").orElse(""));
            assertTrue(busy.error().get("message").getAsString().contains("queue is full"), busy.body());
            running.release.countDown();
            queued.release.countDown();
            running.finish();
            queued.finish();
            assertEquals(200, http.post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 5}").status());
        }
    }

    /** A raw HTTP/1.1 streaming request whose connection the test can drop. */
    private static Socket openStream(OpenAiServer server, String body) throws Exception {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
        socket.setSoTimeout(30_000);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return socket;
    }

    private static void awaitIdle(Http http) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!http.get("/metrics").body().contains("stepslm_busy_slots 0.000")) {
            assertTrue(System.nanoTime() < deadline, "the slot was not freed within 30 s");
            Thread.sleep(5);
        }
    }

    @Test
    void aClientThatLeavesMidStreamFreesItsSlot() throws Exception {
        int maxTokens = 1000;
        try (OpenAiServer server = start(slow.serve(1, 0), 0)) {
            Http http = new Http(server);
            try (Socket socket = openStream(server, "{\"prompt\": \"a\", \"max_tokens\": " + maxTokens
                    + ", \"ignore_eos\": true, \"stream\": true}")) {
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.UTF_8));
                assertTrue(in.readLine().contains("200"));
                for (String line = in.readLine(); !line.startsWith("data: "); line = in.readLine()) {
                    // headers, then the first event
                }
            } // closed after one event
            awaitIdle(http);
            String metrics = http.get("/metrics").body();
            long generated = Long.parseLong(metrics.replaceAll("(?s).*\nstepslm_generated_tokens_total (\\d+)\n.*",
                    "$1"));
            assertTrue(generated < maxTokens, "the generation was cut: " + generated + " tokens");
            Http.Answer next = http.post("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 3}");
            assertEquals(200, next.status(), next.body());
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("(client disconnected)"), log.toString());
        }
    }

    @Test
    void shutdownEndsARunningStreamWithAClearLastEvent() throws Exception {
        OpenAiServer server = start(slow.serve(1, 0), 0);
        Http http = new Http(server);
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<List<String>> events = client.submit(() -> http.stream("/v1/completions",
                    "{\"prompt\": \"a\", \"max_tokens\": 1000, \"ignore_eos\": true, \"stream\": true}"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!http.get("/metrics").body().contains("stepslm_busy_slots 1.000")) {
                assertTrue(System.nanoTime() < deadline, "the stream did not start within 30 s");
                Thread.sleep(5);
            }
            server.close();
            List<String> got = events.get(30, TimeUnit.SECONDS);
            assertEquals("[DONE]", got.get(got.size() - 1));
            JsonObject last = JsonParser.parseString(got.get(got.size() - 2)).getAsJsonObject();
            assertTrue(last.getAsJsonObject("error").get("message").getAsString().contains("shutting down"), got
                    .get(got.size() - 2));
        } finally {
            client.shutdownNow();
            server.close();
        }
    }
}
