package io.stepslm.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HuggingFace {@code tokenizer.json} for byte-level BPE (format of huggingface/tokenizers 0.21, the version inside
 * ai.djl.huggingface:tokenizers 0.36). Reads the GPT-2 family: model BPE with both merge forms ("a b" strings or
 * [a, b] pairs), pre-tokenizer ByteLevel(use_regex=true) or Sequence[Split(GPT-2/cl100k regex), ByteLevel(use_regex
 * =false)], decoder ByteLevel, no normalizer. The post-processor is ignored: stepslm never adds special tokens
 * around a text (like HuggingFace with add_special_tokens=false). Anything else is refused, naming what it is.
 */
final class HuggingFaceJson {

    private HuggingFaceJson() {}

    static BpeTokenizer read(JsonObject root, String where) {
        JsonObject model = object(root, "model", where);
        String type = TokenizerFiles.asString(model.get("type"));
        if (type == null && !(model.has("vocab") && model.has("merges"))) {
            throw new IllegalArgumentException(where
                    + ": the model has no \"type\"; stepslm reads \"type\": \"BPE\" only");
        }
        if (type != null && !type.equals("BPE")) {
            throw new IllegalArgumentException(where + ": unsupported model type '" + type
                    + "': stepslm reads byte-level BPE tokenizers (GPT-2 family) only");
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            String v = TokenizerFiles.asString(model.get(affix));
            if (v != null && !v.isEmpty()) {
                throw new IllegalArgumentException(where + ": unsupported model." + affix + " '" + v
                        + "': byte-level BPE (GPT-2 family) uses none");
            }
        }
        JsonElement dropout = model.get("dropout");
        if (dropout != null && !dropout.isJsonNull() && dropout.getAsDouble() != 0.0) {
            throw new IllegalArgumentException(where + ": unsupported model.dropout " + dropout
                    + ": BPE dropout is random; set it to null");
        }
        JsonElement normalizer = root.get("normalizer");
        if (normalizer != null && !normalizer.isJsonNull()) {
            throw new IllegalArgumentException(where + ": unsupported normalizer " + typeOf(normalizer)
                    + ": stepslm reads byte-level BPE tokenizers without a normalizer (GPT-2 family)");
        }
        JsonElement decoder = root.get("decoder");
        if (decoder != null && !decoder.isJsonNull() && !"ByteLevel".equals(typeOf(decoder))) {
            throw new IllegalArgumentException(where + ": unsupported decoder " + typeOf(decoder)
                    + ": a byte-level BPE needs the ByteLevel decoder");
        }
        JsonElement pre = root.get("pre_tokenizer");
        SplitPattern pattern;
        boolean addPrefixSpace;
        if (pre == null || pre.isJsonNull()) {
            throw new IllegalArgumentException(where
                    + ": no pre_tokenizer: a byte-level BPE needs the ByteLevel pre-tokenizer");
        } else if ("ByteLevel".equals(typeOf(pre))) {
            JsonObject bl = pre.getAsJsonObject();
            if (bl.has("use_regex") && !bl.get("use_regex").getAsBoolean()) {
                throw new IllegalArgumentException(where
                        + ": unsupported pre_tokenizer ByteLevel with use_regex=false and no Split before it");
            }
            pattern = SplitPattern.GPT2;
            addPrefixSpace = bool(bl, "add_prefix_space", true);
        } else if ("Sequence".equals(typeOf(pre))) {
            JsonArray seq = pre.getAsJsonObject().getAsJsonArray("pretokenizers");
            if (seq == null || seq.size() != 2
                    || !"Split".equals(typeOf(seq.get(0))) || !"ByteLevel".equals(typeOf(seq.get(1)))) {
                throw new IllegalArgumentException(where + ": unsupported pre_tokenizer Sequence "
                        + describeSequence(seq) + ": stepslm reads Sequence[Split, ByteLevel] only");
            }
            JsonObject split = seq.get(0).getAsJsonObject();
            JsonObject bl = seq.get(1).getAsJsonObject();
            String behavior = TokenizerFiles.asString(split.get("behavior"));
            if (!"Isolated".equals(behavior) || bool(split, "invert", false)) {
                throw new IllegalArgumentException(where + ": unsupported Split behavior " + behavior
                        + (bool(split, "invert", false) ? " (inverted)" : "")
                        + ": stepslm reads Split with behavior Isolated, invert false");
            }
            JsonObject p = split.getAsJsonObject("pattern");
            String regex = p == null ? null : TokenizerFiles.asString(p.get("Regex"));
            if (regex == null) {
                throw new IllegalArgumentException(where + ": unsupported Split pattern " + p
                        + ": a {\"Regex\": ...} pattern is needed");
            }
            pattern = SplitPattern.ofRegex(regex, where);
            if (bool(bl, "use_regex", true)) {
                throw new IllegalArgumentException(where
                        + ": unsupported ByteLevel use_regex=true after a Split (it would split twice)");
            }
            addPrefixSpace = bool(bl, "add_prefix_space", true);
        } else {
            throw new IllegalArgumentException(where + ": unsupported pre_tokenizer " + typeOf(pre)
                    + ": stepslm reads ByteLevel or Sequence[Split, ByteLevel] (GPT-2 family)");
        }

        JsonObject vocabJson = object(model, "vocab", where + " model");
        int size = 0;
        for (Map.Entry<String, JsonElement> e : vocabJson.entrySet()) {
            size = Math.max(size, e.getValue().getAsInt() + 1);
        }
        String[] vocab = new String[size];
        java.util.HashMap<String, Integer> ids = new java.util.HashMap<>();
        for (Map.Entry<String, JsonElement> e : vocabJson.entrySet()) {
            int id = e.getValue().getAsInt();
            if (id < 0) {
                throw new IllegalArgumentException(where + ": negative id " + id + " for token "
                        + BpeTokenizer.quote(e.getKey()));
            }
            if (vocab[id] != null) {
                throw new IllegalArgumentException(where + ": id " + id + " is given to both "
                        + BpeTokenizer.quote(vocab[id]) + " and " + BpeTokenizer.quote(e.getKey()));
            }
            vocab[id] = e.getKey();
            ids.put(e.getKey(), id);
        }
        JsonElement mergesJson = model.get("merges");
        if (mergesJson == null || !mergesJson.isJsonArray()) {
            throw new IllegalArgumentException(where + ": model.merges is missing or not an array");
        }
        List<int[]> merges = new ArrayList<>();
        int line = 0;
        for (JsonElement m : mergesJson.getAsJsonArray()) {
            line++;
            String a;
            String b;
            if (m.isJsonArray() && m.getAsJsonArray().size() == 2) {
                a = m.getAsJsonArray().get(0).getAsString();
                b = m.getAsJsonArray().get(1).getAsString();
            } else if (m.isJsonPrimitive()) {
                String s = m.getAsString();
                int sp = s.indexOf(' ');
                if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) {
                    throw new IllegalArgumentException(where + ": merge " + line + " " + BpeTokenizer.quote(s)
                            + " is not two tokens separated by one space");
                }
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else {
                throw new IllegalArgumentException(where + ": merge " + line + " " + m
                        + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            Integer ia = ids.get(a);
            Integer ib = ids.get(b);
            if (ia == null || ib == null) {
                throw new IllegalArgumentException(where + ": merge " + line + " uses "
                        + BpeTokenizer.quote(ia == null ? a : b) + ", which is not in the vocabulary");
            }
            merges.add(new int[] {ia, ib});
        }

        List<BpeTokenizer.AddedToken> added = new ArrayList<>();
        JsonElement addedJson = root.get("added_tokens");
        if (addedJson != null && addedJson.isJsonArray()) {
            for (JsonElement e : addedJson.getAsJsonArray()) {
                JsonObject t = e.getAsJsonObject();
                String content = TokenizerFiles.asString(t.get("content"));
                if (content == null || !t.has("id")) {
                    throw new IllegalArgumentException(where + ": an added token lacks \"id\" or \"content\": " + t);
                }
                for (String flag : List.of("lstrip", "rstrip", "single_word")) {
                    if (bool(t, flag, false)) {
                        throw new IllegalArgumentException(where + ": unsupported added token "
                                + BpeTokenizer.quote(content) + " with " + flag
                                + "=true (stepslm matches added tokens exactly)");
                    }
                }
                added.add(new BpeTokenizer.AddedToken(t.get("id").getAsInt(), content, bool(t, "special", false)));
            }
        }
        try {
            String unk = TokenizerFiles.asString(model.get("unk_token"));
            return new BpeTokenizer(vocab, merges, pattern, addPrefixSpace, bool(model, "ignore_merges", false), added,
                    unk == null ? "" : unk, bool(model, "fuse_unk", false));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /** The canonical tokenizer.json of a tokenizer (also what its fingerprint hashes). */
    static byte[] write(BpeTokenizer t) {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (BpeTokenizer.AddedToken a : t.addedTokens()) {
            JsonObject o = new JsonObject();
            o.addProperty("id", a.id());
            o.addProperty("content", a.content());
            o.addProperty("single_word", false);
            o.addProperty("lstrip", false);
            o.addProperty("rstrip", false);
            o.addProperty("normalized", false);
            o.addProperty("special", a.special());
            added.add(o);
        }
        root.add("added_tokens", added);
        root.add("normalizer", JsonNull.INSTANCE);
        if (t.pattern() == SplitPattern.GPT2) {
            root.add("pre_tokenizer", byteLevel(t.addPrefixSpace(), true, true));
        } else {
            JsonObject split = new JsonObject();
            split.addProperty("type", "Split");
            JsonObject regex = new JsonObject();
            regex.addProperty("Regex", t.pattern().regex());
            split.add("pattern", regex);
            split.addProperty("behavior", "Isolated");
            split.addProperty("invert", false);
            JsonObject seq = new JsonObject();
            seq.addProperty("type", "Sequence");
            JsonArray list = new JsonArray();
            list.add(split);
            list.add(byteLevel(t.addPrefixSpace(), true, false));
            seq.add("pretokenizers", list);
            root.add("pre_tokenizer", seq);
        }
        root.add("post_processor", byteLevel(true, false, true));
        root.add("decoder", byteLevel(true, true, true));
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        if (t.unkToken().isEmpty()) {
            model.add("unk_token", JsonNull.INSTANCE);
        } else {
            model.addProperty("unk_token", t.unkToken());
        }
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", t.fuseUnk());
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", t.ignoreMerges());
        JsonObject vocab = new JsonObject();
        List<String> v = t.vocabList();
        for (int id = 0; id < v.size(); id++) {
            if (v.get(id) != null) {
                vocab.addProperty(v.get(id), id);
            }
        }
        model.add("vocab", vocab);
        JsonArray merges = new JsonArray();
        for (int[] m : t.merges()) {
            JsonArray pair = new JsonArray();
            pair.add(v.get(m[0]));
            pair.add(v.get(m[1]));
            merges.add(pair);
        }
        model.add("merges", merges);
        root.add("model", model);
        return (TokenizerFiles.GSON.toJson(root) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static JsonObject byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", addPrefixSpace);
        o.addProperty("trim_offsets", trimOffsets);
        o.addProperty("use_regex", useRegex);
        return o;
    }

    private static JsonObject object(JsonObject parent, String name, String where) {
        JsonElement e = parent.get(name);
        if (e == null || !e.isJsonObject()) {
            throw new IllegalArgumentException(where + ": \"" + name
                    + "\" is missing or not an object; is this a HuggingFace tokenizer.json?");
        }
        return e.getAsJsonObject();
    }

    private static boolean bool(JsonObject o, String name, boolean dflt) {
        JsonElement e = o.get(name);
        return e == null || e.isJsonNull() ? dflt : e.getAsBoolean();
    }

    private static String typeOf(JsonElement e) {
        if (e == null || !e.isJsonObject()) {
            return String.valueOf(e);
        }
        String t = TokenizerFiles.asString(e.getAsJsonObject().get("type"));
        return t == null ? "(no type)" : t;
    }

    private static String describeSequence(JsonArray seq) {
        if (seq == null) {
            return "(no pretokenizers)";
        }
        List<String> types = new ArrayList<>();
        for (JsonElement e : seq) {
            types.add(typeOf(e));
        }
        return types.toString();
    }
}
