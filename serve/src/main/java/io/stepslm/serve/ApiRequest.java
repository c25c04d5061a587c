package io.stepslm.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A completion or chat request, read and checked against the served model: every prompt encoded, every limit
 * applied (the prompt and max_tokens fit in the context, n choices fit in the slots and queue).
 *
 * @param chat         a chat completion (messages rendered with the chat template)
 * @param prompts      token ids of each prompt (OpenAI allows a batch of prompts in one completion request)
 * @param promptTexts  the text of each prompt (for {@code echo})
 * @param params       sampling settings; choice j of a prompt uses seed + j
 * @param templateStops stop strings besides the request's: a chat template's turn markers
 * @param n            choices per prompt
 * @param stream       answer with server-sent events
 * @param includeUsage stream a last chunk with usage ({@code stream_options.include_usage})
 * @param logprobs     log-probabilities of the top this-many tokens per position; -1 = none
 * @param echo         prepend the prompt to the text (completions)
 */
record ApiRequest(boolean chat, List<int[]> prompts, List<String> promptTexts, SamplingParams params,
        List<String> templateStops, int n, boolean stream, boolean includeUsage, int logprobs, boolean echo) {

    /** OpenAI's legacy completions default. */
    static final int DEFAULT_COMPLETION_TOKENS = 16;
    static final int MAX_N = 16;
    static final int MAX_LOGPROBS_COMPLETIONS = 5;
    static final int MAX_TOP_LOGPROBS_CHAT = 20;

    int choices() {
        return prompts.size() * n;
    }

    /** {@code POST /v1/completions}. */
    static ApiRequest completion(JsonObject body, ServedModel model, int capacity) {
        JsonFields f = new JsonFields(body);
        refuse(f, "suffix", "best_of");
        if (!f.has("prompt")) {
            throw new InvalidField("prompt", "prompt is missing: send a string, an array of strings or token ids");
        }
        List<String> texts = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        JsonElement p = f.get("prompt");
        if (p.isJsonArray() && p.getAsJsonArray().size() > 0 && isNumber(p.getAsJsonArray().get(0))) {
            prompts.add(ids(p.getAsJsonArray(), model));
        } else if (p.isJsonArray()) {
            for (JsonElement e : p.getAsJsonArray()) {
                if (e.isJsonArray()) {
                    prompts.add(ids(e.getAsJsonArray(), model));
                } else {
                    prompts.add(encode(JsonFields.asString("prompt", e), model, "prompt"));
                }
            }
            if (prompts.isEmpty()) {
                throw new InvalidField("prompt", "prompt is an empty array: send at least one prompt");
            }
        } else {
            prompts.add(encode(JsonFields.asString("prompt", p), model, "prompt"));
        }
        for (int[] ids : prompts) {
            texts.add(model.tokenizer().decode(ids));
        }
        int logprobs = f.has("logprobs") ? f.integer("logprobs", 0) : -1;
        if (logprobs > MAX_LOGPROBS_COMPLETIONS || logprobs < -1) {
            throw new InvalidField("logprobs", "logprobs " + logprobs + " must be in 0.." + MAX_LOGPROBS_COMPLETIONS);
        }
        return finish(false, f, prompts, texts, List.of(), DEFAULT_COMPLETION_TOKENS, logprobs,
                f.bool("echo", false), model, capacity);
    }

    /** {@code POST /v1/chat/completions}. */
    static ApiRequest chat(JsonObject body, ServedModel model, int capacity) {
        JsonFields f = new JsonFields(body);
        if (f.has("tools") && f.array("tools").size() > 0 || f.has("functions")) {
            throw new InvalidField("tools", "tools and functions are not supported by a base model: leave them out");
        }
        if (f.has("response_format")
                && !"text".equals(new JsonFields(f.object("response_format")).string("type", "text"))) {
            throw new InvalidField("response_format", "only response_format {\"type\": \"text\"} is supported");
        }
        String text = model.template().render(ChatTemplate.messages(f));
        int[] encoded = encode(text, model, "messages");
        // a chat prompt starts a fresh document, as training documents begin after an end-of-text token
        int[] ids = new int[encoded.length + 1];
        ids[0] = model.tokenizer().endOfTextId();
        System.arraycopy(encoded, 0, ids, 1, encoded.length);
        int logprobs = -1;
        if (f.bool("logprobs", false)) {
            logprobs = f.integer("top_logprobs", 0);
            if (logprobs < 0 || logprobs > MAX_TOP_LOGPROBS_CHAT) {
                throw new InvalidField("top_logprobs", "top_logprobs " + logprobs + " must be in 0.."
                        + MAX_TOP_LOGPROBS_CHAT);
            }
        } else if (f.has("top_logprobs")) {
            throw new InvalidField("top_logprobs", "top_logprobs needs \"logprobs\": true");
        }
        return finish(true, f, List.of(ids), List.of(text), model.template().stop(), Integer.MAX_VALUE, logprobs,
                false, model, capacity);
    }

    private static ApiRequest finish(boolean chat, JsonFields f, List<int[]> prompts, List<String> texts,
            List<String> extraStops, int defaultTokens, int logprobs, boolean echo, ServedModel model, int capacity) {
        int context = model.contextLength();
        int longest = 0;
        for (int[] ids : prompts) {
            longest = Math.max(longest, ids.length);
        }
        String promptField = chat ? "messages" : "prompt";
        if (longest > context) {
            throw new InvalidField(promptField, promptField + " has " + longest + " tokens but the model's context is "
                    + context + ": send 1.." + context + " tokens");
        }
        int room = context - longest;
        if (f.has("max_tokens") || f.has("max_completion_tokens")) {
            String field = f.has("max_tokens") ? "max_tokens" : "max_completion_tokens";
            int asked = f.integer(field, 0);
            if (asked < 0 || asked > room) {
                throw new InvalidField(field, field + " " + asked + " is outside 0.." + room + ": the context of "
                        + context + " tokens leaves " + room + " after the " + longest + "-token " + promptField);
            }
        }
        long seed = f.has("seed") ? f.longInteger("seed", 0) : ThreadLocalRandom.current().nextLong();
        SamplingParams params = SamplingParams.fromJson(f.body(), SamplingParams.defaults(Math.min(defaultTokens, room),
                seed));
        int n = f.integer("n", 1);
        if (n < 1 || n > MAX_N) {
            throw new InvalidField("n", "n " + n + " must be in 1.." + MAX_N);
        }
        if ((long) n * prompts.size() > capacity) {
            throw new InvalidField("n", "the request asks for " + n * prompts.size() + " choices but the server runs "
                    + "at most " + capacity + " generations (slots + queue): ask for at most " + capacity);
        }
        for (int id : params.logitBias().keySet()) {
            if (id >= model.config().vocabSize()) {
                throw new InvalidField("logit_bias", "logit_bias token " + id + " is outside the vocabulary: use 0.."
                        + (model.config().vocabSize() - 1));
            }
        }
        boolean stream = f.bool("stream", false);
        boolean includeUsage = new JsonFields(f.object("stream_options")).bool("include_usage", false);
        return new ApiRequest(chat, prompts, texts, params, extraStops, n, stream, includeUsage, logprobs, echo);
    }

    private static void refuse(JsonFields f, String... fields) {
        for (String field : fields) {
            if (f.has(field) && !(field.equals("best_of") && f.integer(field, 1) == 1)) {
                throw new InvalidField(field, field + " is not supported: leave it out");
            }
        }
    }

    private static boolean isNumber(JsonElement e) {
        return e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber();
    }

    private static int[] ids(JsonArray array, ServedModel model) {
        int vocab = model.config().vocabSize();
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = JsonFields.asInt("prompt", array.get(i));
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new InvalidField("prompt", "prompt token " + ids[i] + " is outside the vocabulary: use 0.."
                        + (vocab - 1));
            }
        }
        if (ids.length == 0) {
            throw new InvalidField("prompt", "prompt token array is empty: send at least one token id");
        }
        return ids;
    }

    /** Text to ids; an empty text starts a fresh document (the end-of-text token), as {@code stepslm generate}. */
    static int[] encode(String text, ServedModel model, String field) {
        if (text.isEmpty()) {
            return new int[] {model.tokenizer().endOfTextId()};
        }
        try {
            return model.tokenizer().encode(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidField(field, field + " cannot be encoded with the model's tokenizer: " + e.getMessage());
        }
    }
}
