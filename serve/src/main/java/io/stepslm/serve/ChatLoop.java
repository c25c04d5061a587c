package io.stepslm.serve;

import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.stepslm.generate.GenerationConfig;
import io.stepslm.generate.TokenLogprobs;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;

/**
 * {@code stepslm chat}: an interactive loop on a terminal (JLine: line editing, history). Each line is a user turn
 * of the chat transcript (or, raw, more text to continue); the reply streams as it is generated. Ctrl-C stops the
 * reply and returns to the prompt, Ctrl-D exits, {@code /set KEY VALUE} changes a sampling setting, {@code /reset}
 * forgets the conversation.
 */
public final class ChatLoop {

    /** The settings {@code /set} knows, with the request field each one sets. */
    static final List<String> KEYS = List.of("temperature", "top_p", "top_k", "min_p", "repeat_penalty",
            "repeat_last_n", "presence_penalty", "frequency_penalty", "seed", "max_tokens", "stop", "ignore_eos");

    private static final String HELP = String.join("\n",
            "Type a message and press Enter; the reply streams as it is generated.",
            "  /set KEY VALUE  change a sampling setting: " + String.join(", ", KEYS),
            "                  (/set stop TEXT adds a stop string, /set stop alone clears them)",
            "  /show           print the settings",
            "  /reset          forget the conversation",
            "  /help           this text",
            "  Ctrl-C stops a reply, Ctrl-D exits.");

    private final ServedModel model;
    private final Terminal terminal;
    private final boolean raw;
    private final PrintWriter out;
    private final List<ChatTemplate.Message> messages = new ArrayList<>();
    private final StringBuilder transcript = new StringBuilder();
    private SamplingParams params;

    public ChatLoop(ServedModel model, Terminal terminal, boolean raw, SamplingParams params) {
        this.model = model;
        this.terminal = terminal;
        this.raw = raw;
        this.params = params;
        this.out = terminal.writer();
    }

    /** Runs until Ctrl-D (end of input). */
    public void run() {
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("stepslm").build();
        out.println("Chatting with " + model.id() + (raw ? " (raw continuation)" : "") + ". /help for commands, "
                + "Ctrl-D to exit.");
        out.flush();
        while (true) {
            String line;
            try {
                line = reader.readLine("> ");
            } catch (UserInterruptException e) {
                continue; // Ctrl-C at the prompt clears the line
            } catch (EndOfFileException e) {
                out.println();
                out.flush();
                return;
            }
            if (line.startsWith("/")) {
                command(line.trim());
            } else if (!line.isBlank()) {
                reply(line);
            }
            out.flush();
        }
    }

    private void command(String line) {
        String[] words = line.split("\\s+", 3);
        switch (words[0]) {
            case "/help" -> out.println(HELP);
            case "/reset" -> {
                messages.clear();
                transcript.setLength(0);
                out.println("(conversation forgotten)");
            }
            case "/show" -> out.println(show());
            case "/set" -> set(words);
            default -> out.println("unknown command " + words[0] + ": /help lists the commands");
        }
    }

    private void set(String[] words) {
        if (words.length < 2 || !KEYS.contains(words[1])) {
            out.println("usage: /set KEY VALUE with KEY one of " + String.join(", ", KEYS));
            return;
        }
        String key = words[1];
        String value = words.length > 2 ? words[2] : "";
        JsonObject change = new JsonObject();
        if (key.equals("stop")) {
            List<String> stops = new ArrayList<>(value.isEmpty() ? List.of() : params.stop());
            if (!value.isEmpty()) {
                stops.add(value.replace("\\n", "\n"));
            }
            var array = new com.google.gson.JsonArray();
            stops.forEach(array::add);
            change.add(key, array);
        } else if (value.equals("true") || value.equals("false")) {
            change.addProperty(key, Boolean.parseBoolean(value));
        } else {
            try {
                change.add(key, new JsonPrimitive(new java.math.BigDecimal(value)));
            } catch (NumberFormatException e) {
                out.println(key + " needs a number, got \"" + value + "\"");
                return;
            }
        }
        try {
            params = SamplingParams.fromJson(change, params);
            out.println(key + " = " + (key.equals("stop") ? params.stop() : value));
        } catch (InvalidField e) {
            out.println(e.getMessage() + " (kept the old value)");
        }
    }

    private String show() {
        return String.format(Locale.ROOT, "temperature %s, top_p %s, top_k %d, min_p %s, repeat_penalty %s, "
                + "repeat_last_n %d, presence_penalty %s, frequency_penalty %s, seed %d, max_tokens %d, stop %s, "
                + "ignore_eos %s", params.temperature(), params.topP(), params.topK(), params.minP(),
                params.repeatPenalty(), params.repeatLastN(),
                params.presencePenalty(), params.frequencyPenalty(), params.seed(), params.maxTokens(),
                params.stop(), params.ignoreEos());
    }

    private void reply(String line) {
        List<String> templateStops = new ArrayList<>();
        int[] prompt;
        if (raw) {
            transcript.append(line);
            prompt = ApiRequest.encode(transcript.toString(), model, "text");
        } else {
            messages.add(new ChatTemplate.Message("user", line));
            templateStops.addAll(model.template().stop());
            int[] ids = ApiRequest.encode(model.template().render(messages), model, "message");
            prompt = new int[ids.length + 1];
            prompt[0] = model.tokenizer().endOfTextId();
            System.arraycopy(ids, 0, prompt, 1, ids.length);
        }
        // the oldest turns fall out of the window first: keep the prompt's end and room for the reply
        int maxTokens = Math.min(params.maxTokens(), model.contextLength() - 1);
        int keep = model.contextLength() - maxTokens;
        if (prompt.length > keep) {
            prompt = Arrays.copyOfRange(prompt, prompt.length - keep, prompt.length);
        }
        String text = generate(prompt, params.withMaxTokens(maxTokens), templateStops);
        if (raw) {
            transcript.append(text);
        } else {
            messages.add(new ChatTemplate.Message("assistant", text.strip()));
        }
    }

    /** Streams one reply to the terminal; Ctrl-C (SIGINT) cancels it. Returns its text. */
    private String generate(int[] prompt, SamplingParams sampling, List<String> templateStops) {
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        Object end = new Object();
        GenerationConfig config = sampling.toConfig(Set.of(model.tokenizer().endOfTextId()), templateStops, -1);
        Engine.Ticket ticket = model.engine().submit(prompt, config, new Engine.Listener() {
            @Override
            public void onToken(int token, String text, TokenLogprobs logprobs) {
                events.add(text);
            }

            @Override
            public void onEnd(Engine.Finish finish, String message) {
                if (finish == Engine.Finish.ERROR) {
                    events.add(new IllegalStateException("generation failed: " + message));
                }
                events.add(end);
            }
        });
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> ticket.cancel());
        StringBuilder text = new StringBuilder();
        try {
            for (Object e = events.take(); e != end; e = events.take()) {
                if (e instanceof IllegalStateException failure) {
                    out.println();
                    out.println(failure.getMessage());
                    continue;
                }
                text.append((String) e);
                out.print((String) e);
                out.flush();
            }
            out.println();
        } catch (InterruptedException e) {
            ticket.cancel();
            Thread.currentThread().interrupt();
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
        }
        return text.toString();
    }
}
