package io.stepslm.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How chat messages become a prompt for a base model: a plain transcript, one turn per line ("User: ...",
 * "Assistant: ..."), ending with the assistant's marker, and generation stops at the next turn marker. Each part is
 * text with a {@code {content}} placeholder. A JSON file with the same keys replaces it
 * ({@code stepslm serve --chat-template FILE}); missing keys keep the defaults.
 *
 * @param system    a system (or developer) message
 * @param user      a user message
 * @param assistant an earlier assistant message
 * @param generation what follows the messages, so that the model continues as the assistant
 * @param stop      strings that end the assistant's turn (the next turn marker)
 */
public record ChatTemplate(String system, String user, String assistant, String generation, List<String> stop) {

    private static final String CONTENT = "{content}";

    public ChatTemplate {
        stop = List.copyOf(stop);
        for (String[] part : new String[][] {{"system", system}, {"user", user}, {"assistant", assistant}}) {
            if (!part[1].contains(CONTENT)) {
                throw new IllegalArgumentException("chat template part \"" + part[0] + "\" is \"" + part[1]
                        + "\": it must contain " + CONTENT + " where the message goes");
            }
        }
        if (stop.size() > SamplingParams.MAX_STOP || stop.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("chat template \"stop\" " + stop + " must hold 0 to "
                    + SamplingParams.MAX_STOP + " non-empty strings");
        }
    }

    /** The transcript: "User: hi\nAssistant: hello\nUser: ...\nAssistant:". */
    public static ChatTemplate transcript() {
        return new ChatTemplate("{content}\n\n", "User: {content}\n", "Assistant: {content}\n", "Assistant:",
                List.of("\nUser:", "\nAssistant:"));
    }

    /** A template file ({@code --chat-template FILE}); see {@link #fromJson}. */
    public static ChatTemplate read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--chat-template " + file + " is not a file: give a JSON file with keys "
                    + "system, user, assistant, generation, stop");
        }
        return fromJson(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** A template file's JSON over the transcript's defaults; {@code source} names the file in messages. */
    public static ChatTemplate fromJson(String json, String source) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("chat template " + source + " must be a JSON object with keys "
                        + "system, user, assistant, generation, stop");
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("chat template " + source + " is not valid JSON: " + e.getMessage());
        }
        ChatTemplate d = transcript();
        for (String key : o.keySet()) {
            if (!List.of("system", "user", "assistant", "generation", "stop").contains(key)) {
                throw new IllegalArgumentException("chat template " + source + " has unknown key \"" + key
                        + "\": use system, user, assistant, generation, stop");
            }
        }
        try {
            JsonFields f = new JsonFields(o);
            return new ChatTemplate(f.string("system", d.system()), f.string("user", d.user()),
                    f.string("assistant", d.assistant()), f.string("generation", d.generation()),
                    f.has("stop") ? f.strings("stop") : d.stop());
        } catch (InvalidField e) {
            throw new IllegalArgumentException("chat template " + source + ": " + e.getMessage());
        }
    }

    /** One chat message; roles as OpenAI's (developer counts as system). */
    public record Message(String role, String content) {
        public Message {
            if (!List.of("system", "developer", "user", "assistant").contains(role)) {
                throw new InvalidField("messages", "message role \"" + role
                        + "\" is not supported: use system, developer, user or assistant");
            }
        }
    }

    /** The prompt text for {@code messages}, ready for the assistant's reply. */
    public String render(List<Message> messages) {
        StringBuilder out = new StringBuilder();
        for (Message m : messages) {
            String part = switch (m.role()) {
                case "system", "developer" -> system;
                case "user" -> user;
                default -> assistant;
            };
            out.append(part.replace(CONTENT, m.content()));
        }
        return out.append(generation).toString();
    }

    /** Reads OpenAI's {@code messages}: content as a string or as an array of {"type": "text"} parts. */
    static List<Message> messages(JsonFields body) {
        List<Message> out = new ArrayList<>();
        for (JsonElement e : body.array("messages")) {
            if (!e.isJsonObject()) {
                throw new InvalidField("messages", "each message must be an object {\"role\", \"content\"}, got " + e);
            }
            JsonFields m = new JsonFields(e.getAsJsonObject());
            String role = m.string("role", "");
            JsonElement content = m.get("content");
            StringBuilder text = new StringBuilder();
            if (content == null) {
                throw new InvalidField("messages", "a " + role + " message has no content");
            } else if (content.isJsonArray()) {
                for (JsonElement part : content.getAsJsonArray()) {
                    JsonFields p = new JsonFields(part.isJsonObject() ? part.getAsJsonObject() : new JsonObject());
                    if (!"text".equals(p.string("type", ""))) {
                        throw new InvalidField("messages", "only text content parts are supported, got " + part);
                    }
                    text.append(p.string("text", ""));
                }
            } else {
                text.append(JsonFields.asString("messages", content));
            }
            out.add(new Message(role, text.toString()));
        }
        if (out.isEmpty()) {
            throw new InvalidField("messages", "messages is empty: send at least one message");
        }
        return out;
    }
}
