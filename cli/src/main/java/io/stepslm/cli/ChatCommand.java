package io.stepslm.cli;

import io.stepslm.serve.ChatLoop;
import io.stepslm.serve.ChatTemplate;
import io.stepslm.serve.BatchEngine;
import io.stepslm.serve.SamplingParams;
import io.stepslm.serve.ServedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stepslm chat}: talk to a checkpoint in the terminal (see {@link ChatLoop}). */
@Command(
        name = "chat",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {"Talks to a checkpoint in the terminal: each line is a user turn of a plain transcript",
                "(or, with --raw, more text to continue); replies stream as they are generated.",
                "/set KEY VALUE changes a sampling setting, /reset forgets, /help lists the commands;",
                "Ctrl-C stops a reply, Ctrl-D exits."},
        footer = {"", "Examples:",
                "  stepslm chat --checkpoint runs/demo",
                "  stepslm chat --checkpoint runs/demo --raw --temperature 0.7 --max-tokens 300"})
public final class ChatCommand implements Callable<Integer> {

    @Mixin
    TrainedModel.Options run;

    @Option(names = "--raw", description = "Continue the text as typed instead of a chat transcript.")
    boolean raw;

    @Option(names = "--chat-template", paramLabel = "FILE", description = "JSON with keys system, user, assistant, "
            + "generation, stop (default: a 'User: ... / Assistant: ...' transcript).")
    Path chatTemplate;

    @Option(names = "--max-tokens", description = "Tokens per reply at most (default: ${DEFAULT-VALUE}).")
    int maxTokens = 200;

    @Option(names = "--temperature", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature = 0.8;

    @Option(names = "--seed", description = "Sampling seed (default: random).")
    Long seed;

    @Override
    public Integer call() throws IOException {
        SamplingParams start = SamplingParams.defaults(maxTokens,
                seed != null ? seed : ThreadLocalRandom.current().nextLong()).withTemperature(temperature);
        ChatTemplate template = chatTemplate == null ? ChatTemplate.transcript() : ChatTemplate.read(chatTemplate);
        try (TrainedModel loaded = TrainedModel.open(run, 1);
                // a pipe or a test gets JLine's dumb terminal without JLine's warning about it
                Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build();
                ServedModel model = new ServedModel(
                        run.checkpoint.toAbsolutePath().normalize().getFileName().toString(), loaded.tokenizer,
                        loaded.model.config(), loaded.model.parameterCount(),
                        new BatchEngine(loaded.model, loaded.tokenizer::decode, 1, 0), template)) {
            new ChatLoop(model, terminal, raw, start).run();
        }
        return 0;
    }
}
