package io.stepslm.bench;

import ai.djl.Device;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.machine.CpuThreads;
import io.stepslm.machine.Machine;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelConfig;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.serve.BatchEngine;
import io.stepslm.serve.ChatTemplate;
import io.stepslm.serve.OpenAiServer;
import io.stepslm.serve.ServeConfig;
import io.stepslm.serve.ServedModel;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stepslm bench serve}: a load test of {@code stepslm serve} on loopback, in the manner of llama.cpp's
 * server benchmark: 1, 4, 16 concurrent clients each send a bounded number of streaming completion requests to an
 * in-process server (continuous batching, one slot per client) running a random-weight model of the generation
 * benchmark's size; requests/s, total generated tokens/s, time to first token and per-token latency (gaps between
 * streamed chunks) at p50 and p99.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Load test of the OpenAI-compatible server on loopback: concurrent streaming clients;",
                "requests/s, total tokens/s, time to first token and per-token latency (p50, p99)."},
        footer = {"", "Examples:",
                "  stepslm bench serve --tokenizer /tmp/stepslm-llamacpp/austen-21336.json",
                "  stepslm bench serve --tokenizer tok.json --clients 1,4 --requests 4 --tokens 64"})
public final class ServeBenchCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "tokenizer.json whose vocabulary the model uses (bench/generate.sh makes the Austen one).")
    Path tokenizer;

    @Option(names = "--clients", split = ",", defaultValue = "1,4,16",
            description = "Concurrent clients per level (default: ${DEFAULT-VALUE}).")
    List<Integer> clients;

    @Option(names = "--requests", defaultValue = "3", description = "Requests each client sends in a level "
            + "(default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--tokens", defaultValue = "128", description = "max_tokens of each request, generated in full "
            + "(ignore_eos) (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--threads", defaultValue = "2", description = "libtorch threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--kernels", defaultValue = "fused", description = "fused or reference (default: "
            + "${DEFAULT-VALUE}).")
    String kernels;

    @Spec
    CommandSpec spec;

    /** One request's figures: time to first token, the gaps between later chunks, tokens generated. */
    private record Sample(double ttftMs, List<Double> gapsMs, int tokens) { }

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(tokenizer)) {
            throw new IOException("--tokenizer " + tokenizer + " does not exist: run bench/generate.sh once or train "
                    + "one with `stepslm tokenizer train`");
        }
        if (requests < 1 || tokens < 2 || clients.stream().anyMatch(c -> c < 1)) {
            throw new IllegalArgumentException("--requests, --clients must be at least 1 and --tokens at least 2");
        }
        Tokenizer tok = TokenizerFiles.load(tokenizer);
        // the generation benchmark's GPT-2-style model: width 384, 6 blocks, 6 heads, context 256 (~19M parameters)
        ModelConfig config = ModelConfig.gpt(tok.vocabSize(), 256, 6, 6, 384, 0.0, false);
        int slots = Collections.max(clients);
        PrintWriter out = spec.commandLine().getOut();
        int before = CpuThreads.current();
        new CpuThreads(threads).apply();
        try (ModelRuntime runtime = ModelRuntime.open(Device.cpu(), KernelChoice.parse(kernels), Precision.FP32, 1);
             LanguageModel model = LanguageModel.create(config, runtime)) {
            ServeConfig d = ServeConfig.defaults();
            OpenAiServer server = OpenAiServer.start(new ServeConfig(d.host(), 0, "", d.maxBodyBytes(), 0),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            try {
                server.serve(new ServedModel("bench", tok, config, model.parameterCount(),
                        new BatchEngine(model, tok::decode, slots, slots), ChatTemplate.transcript()));
                out.printf(Locale.ROOT, "stepslm bench serve: %s; %,d-parameter model (width 384, 6 blocks, context "
                        + "256, vocabulary %d), %s kernels, %d libtorch threads, %d slots; each request streams %d "
                        + "tokens after \"ROMEO:\" (temperature 0.8, top-k 40, top-p 0.95)%n", Machine.local()
                        .summary(), model.parameterCount(), tok.vocabSize(), kernels, threads, slots, tokens);
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                request(http, server.address(), 0, 16); // warm-up
                out.printf(Locale.ROOT, "%7s %8s %7s %7s %10s %9s %9s %9s %9s %8s%n", "clients", "requests",
                        "wall s", "req/s", "tok/s", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "scaling");
                double single = 0;
                for (int c : clients) {
                    List<Sample> samples = new ArrayList<>();
                    long t0 = System.nanoTime();
                    ExecutorService pool = Executors.newFixedThreadPool(c);
                    try {
                        List<Future<List<Sample>>> futures = new ArrayList<>();
                        for (int i = 0; i < c; i++) {
                            int client = i;
                            futures.add(pool.submit(() -> {
                                List<Sample> mine = new ArrayList<>();
                                for (int r = 0; r < requests; r++) {
                                    mine.add(request(http, server.address(), 1 + client * requests + r, tokens));
                                }
                                return mine;
                            }));
                        }
                        for (Future<List<Sample>> f : futures) {
                            samples.addAll(f.get(30, TimeUnit.MINUTES));
                        }
                    } finally {
                        pool.shutdownNow();
                    }
                    double wall = (System.nanoTime() - t0) / 1e9;
                    int total = samples.stream().mapToInt(Sample::tokens).sum();
                    double tps = total / wall;
                    if (single == 0) {
                        single = tps;
                    }
                    List<Double> ttft = new ArrayList<>();
                    List<Double> gaps = new ArrayList<>();
                    for (Sample s : samples) {
                        ttft.add(s.ttftMs());
                        gaps.addAll(s.gapsMs());
                    }
                    out.printf(Locale.ROOT, "%7d %8d %7.1f %7.2f %10.1f %9.1f %9.1f %9.1f %9.1f %7.2fx%n", c,
                            samples.size(), wall, samples.size() / wall, tps, pct(ttft, 50), pct(ttft, 99),
                            pct(gaps, 50), pct(gaps, 99), tps / single);
                    out.flush();
                }
            } finally {
                server.close();
            }
        } finally {
            new CpuThreads(before).apply();
        }
        out.println("tok/s = all generated tokens / wall time of the level; TTFT = request sent -> first text chunk; "
                + "ITL = gap between streamed chunks; scaling = tok/s over the first level's; times in ms");
        out.println("load average at the end: " + Machine.local().loadAverageText());
        return 0;
    }

    /** One streaming completion, timed from the send; bounded by the client's timeout. */
    private static Sample request(HttpClient http, String base, long seed, int maxTokens) throws Exception {
        String body = "{\"prompt\": \"ROMEO:\", \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0.8, \"top_k\": 40, "
                + "\"top_p\": 0.95, \"seed\": " + seed + ", \"ignore_eos\": true, \"stream\": true, "
                + "\"stream_options\": {\"include_usage\": true}}";
        long sent = System.nanoTime();
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .timeout(Duration.ofMinutes(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            throw new IOException("the server answered " + r.statusCode() + ": "
                    + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
        }
        long last = 0;
        double ttft = -1;
        List<Double> gaps = new ArrayList<>();
        int generated = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.startsWith("data: {")) {
                    continue;
                }
                long now = System.nanoTime();
                JsonObject chunk = JsonParser.parseString(line.substring(6)).getAsJsonObject();
                if (chunk.has("usage")) {
                    generated = chunk.getAsJsonObject("usage").get("completion_tokens").getAsInt();
                } else if (!chunk.getAsJsonArray("choices").get(0).getAsJsonObject().get("text").getAsString()
                        .isEmpty()) {
                    if (ttft < 0) {
                        ttft = (now - sent) / 1e6;
                    } else {
                        gaps.add((now - last) / 1e6);
                    }
                    last = now;
                }
            }
        }
        return new Sample(ttft, gaps, generated);
    }

    private static double pct(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
