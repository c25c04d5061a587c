package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.datasets.BuiltinCorpus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `stepslm serve` and `stepslm chat` as real processes on a checkpoint trained here; SIGTERM stops serve cleanly. */
class ServeChatCommandTest {

    @TempDir
    static Path dir;
    private static Path run;

    @BeforeAll
    static void train() throws IOException {
        Path corpus = dir.resolve("austen.txt");
        Files.writeString(corpus, BuiltinCorpus.text().substring(0, 20_000), StandardCharsets.UTF_8);
        run = dir.resolve("run");
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            CliRun trained = CliRun.of("train", "--char", "--data", corpus.toString(), "--model", "char-tiny",
                    "--preset", "tiny", "--max-steps", "2", "--batch-size", "2", "--context", "32", "--threads", "1",
                    "--out", run.toString());
            assertEquals(0, trained.exit(), trained.err());
        } finally {
            System.setOut(saved);
        }
    }

    /** A `stepslm` child process whose output (stdout and stderr) is read on its own thread. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final StringBuffer output = new StringBuffer();
        final Thread reader;

        Child(String... args) throws IOException {
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Xmx1g", "-Dai.djl.offline=true", "-cp", classpath, StepsLm.class.getName()));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            reader = new Thread(() -> {
                try (InputStream in = process.getInputStream()) {
                    byte[] buffer = new byte[4096];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    output.append("[read failed: ").append(e).append(']');
                }
            });
            reader.start();
        }

        /** Waits (bounded) until the output matches {@code regex}; returns the match's first group. */
        String await(String regex) throws InterruptedException {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline) {
                Matcher m = p.matcher(output);
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : m.group();
                }
                assertTrue(process.isAlive() || p.matcher(output).find(), "exited early:\n" + output);
                Thread.sleep(20);
            }
            throw new AssertionError("no line matching " + regex + " within 90 s:\n" + output);
        }

        int exit() throws InterruptedException {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "did not exit within 60 s:\n" + output);
            reader.join(10_000);
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    @Test
    void serveAnswersAndStopsOnSigterm() throws Exception {
        try (Child serve = new Child("serve", "--checkpoint", run.toString(), "--port", "0", "--alias", "austen")) {
            String address = serve.await("serving 'austen' \\(.* at (http://127\\.0\\.0\\.1:\\d+)");
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create(address + "/v1/completions"))
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(
                            // ignore_eos: a sampled end-of-text would end the answer before 5 tokens
                            "{\"model\": \"austen\", \"prompt\": \"It is\", \"max_tokens\": 5, "
                                    + "\"ignore_eos\": true, \"seed\": 7}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
            assertTrue(answer.body().contains("\"completion_tokens\":5"), answer.body());
            serve.await("POST /v1/completions 200 \\d+ ms: prompt 5 \\+ completion 5 tokens");
            new ProcessBuilder("kill", "-TERM", Long.toString(serve.process.pid())).start().waitFor(10,
                    TimeUnit.SECONDS);
            serve.exit();
            String out = serve.output.toString();
            assertTrue(out.contains("stepslm serve: stopped"), out);
            assertTrue(!out.contains("SLF4J") && !out.contains("Exception"), out);
        }
    }

    @Test
    void chatReadsLinesUntilEndOfInput() throws Exception {
        try (Child chat = new Child("chat", "--checkpoint", run.toString(), "--seed", "1", "--max-tokens", "10")) {
            try (OutputStream in = chat.process.getOutputStream()) {
                in.write("/set temperature 0.5\n/show\nHello\n".getBytes(StandardCharsets.UTF_8));
            } // end of input: what Ctrl-D sends
            assertEquals(0, chat.exit(), chat.output.toString());
            String out = chat.output.toString();
            assertTrue(out.contains("Chatting with run"), out);
            assertTrue(out.contains("temperature = 0.5") && out.contains("temperature 0.5, top_p 1.0"), out);
            assertTrue(!out.contains("SLF4J") && !out.contains("WARN"), out);
        }
    }

    @Test
    void badServeSettingsGiveOneLine() {
        CliRun badPort = CliRun.of("serve", "--checkpoint", run.toString(), "--port", "70000");
        assertEquals(1, badPort.exit());
        assertTrue(badPort.err().startsWith("stepslm serve: error: --port 70000 must be in 0..65535"), badPort.err());
        CliRun badTemplate = CliRun.of("chat", "--checkpoint", run.toString(), "--chat-template",
                dir.resolve("none.json").toString());
        assertEquals(1, badTemplate.exit());
        assertTrue(badTemplate.err().contains("--chat-template") && badTemplate.err().contains("is not a file"),
                badTemplate.err());
    }
}
