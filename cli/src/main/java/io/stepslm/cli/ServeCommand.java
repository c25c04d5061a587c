package io.stepslm.cli;

import io.stepslm.serve.ChatTemplate;
import io.stepslm.serve.BatchEngine;
import io.stepslm.serve.OpenAiServer;
import io.stepslm.serve.ServeConfig;
import io.stepslm.serve.ServedModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepslm serve}: an OpenAI-compatible HTTP server for a checkpoint (see the serve module). */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Serves a checkpoint over an OpenAI-compatible HTTP API: /v1/completions, /v1/chat/completions",
                "(streaming with server-sent events), /v1/models, /tokenize, /detokenize, /health, /metrics.",
                "Binds to loopback unless --host says otherwise; Ctrl-C or SIGTERM stops it cleanly."},
        footer = {"", "Examples:",
                "  stepslm serve --checkpoint runs/demo",
                "  stepslm serve --checkpoint runs/demo --port 9000 --parallel 4 --queue 32 --api-key s3cret",
                "  curl -s localhost:8080/v1/completions -H 'Content-Type: application/json' \\",
                "       -d '{\"prompt\": \"It is a truth\", \"max_tokens\": 40}'"})
public final class ServeCommand implements Callable<Integer> {

    @Mixin
    TrainedModel.Options run;

    @Option(names = "--host",
            description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 exposes it to the network).")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "TCP port; 0 = any free port (default: ${DEFAULT-VALUE}).")
    int port = 8080;

    @Option(names = "--parallel", description = "Slots: generations that run at once, each with its own KV cache "
            + "(default: ${DEFAULT-VALUE}).")
    int parallel = 4;

    @Option(names = "--queue", description = "Requests that may wait for a slot; beyond it the server answers 503 "
            + "with Retry-After (default: ${DEFAULT-VALUE}).")
    int queue = 32;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every "
            + "endpoint but /health (default: none).")
    String apiKey = "";

    @Option(names = "--alias", paramLabel = "NAME", description = "The model id clients send (default: the "
            + "--checkpoint folder's name).")
    String alias;

    @Option(names = "--chat-template", paramLabel = "FILE", description = "JSON with keys system, user, assistant, "
            + "generation, stop (default: a 'User: ... / Assistant: ...' transcript).")
    Path chatTemplate;

    @Option(names = "--grace",
            description = "Seconds running generations may finish on shutdown (default: ${DEFAULT-VALUE}).")
    int graceSeconds = 5;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ServeConfig config = new ServeConfig(host, port, apiKey, ServeConfig.defaults().maxBodyBytes(),
                graceSeconds * 1000L);
        ChatTemplate template = chatTemplate == null ? ChatTemplate.transcript() : ChatTemplate.read(chatTemplate);
        String id = alias != null ? alias : run.checkpoint.toAbsolutePath().normalize().getFileName().toString();
        PrintStream log = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        // listen first and answer 503 while the checkpoint loads, as llama.cpp's server does
        OpenAiServer server = OpenAiServer.start(config, log);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.println("stepslm serve: stopping (running generations get " + graceSeconds + " s)");
            server.close();
            log.println("stepslm serve: stopped");
            stopped.countDown();
        }, "serve-shutdown"));
        log.println("stepslm serve: listening on " + server.address() + ", loading " + run.checkpoint);
        // one libtorch thread per slot: one-token decode steps of small models are fastest on one thread
        TrainedModel loaded = TrainedModel.open(run, 1);
        BatchEngine engine = new BatchEngine(loaded.model, loaded.tokenizer::decode, parallel, queue);
        server.serve(new ServedModel(id, loaded.tokenizer, loaded.model.config(), loaded.model.parameterCount(),
                engine, template));
        log.printf("stepslm serve: serving '%s' (%,d parameters, context %d, %d slots, queue %d) at %s%s%n", id,
                loaded.model.parameterCount(), loaded.model.config().contextLength(), parallel, queue,
                server.address(), apiKey.isEmpty() ? "" : " (API key required)");
        stopped.await(); // until Ctrl-C / SIGTERM runs the shutdown hook
        return 0;
    }
}
