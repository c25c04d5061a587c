package io.stepslm.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed reads of a JSON request body: a field of the wrong type is an {@link InvalidField} naming the field and the
 * expected type, never a Gson exception; an absent field or JSON null gives the default (as OpenAI treats null).
 */
final class JsonFields {

    private final JsonObject body;

    JsonFields(JsonObject body) {
        this.body = body;
    }

    JsonObject body() {
        return body;
    }

    boolean has(String field) {
        JsonElement e = body.get(field);
        return e != null && !e.isJsonNull();
    }

    JsonElement get(String field) {
        return has(field) ? body.get(field) : null;
    }

    double number(String field, double fallback) {
        if (!has(field)) {
            return fallback;
        }
        return asNumber(field, body.get(field));
    }

    int integer(String field, int fallback) {
        if (!has(field)) {
            return fallback;
        }
        return asInt(field, body.get(field));
    }

    long longInteger(String field, long fallback) {
        if (!has(field)) {
            return fallback;
        }
        double d = asNumber(field, body.get(field));
        if (d != Math.rint(d) || Math.abs(d) > 9.007199254740992E15) {
            throw new InvalidField(field, field + " must be an integer, got " + body.get(field));
        }
        return body.get(field).getAsLong();
    }

    boolean bool(String field, boolean fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonElement e = body.get(field);
        if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean())) {
            throw new InvalidField(field, field + " must be true or false, got " + e);
        }
        return e.getAsBoolean();
    }

    String string(String field, String fallback) {
        if (!has(field)) {
            return fallback;
        }
        return asString(field, body.get(field));
    }

    JsonObject object(String field) {
        if (!has(field)) {
            return new JsonObject();
        }
        JsonElement e = body.get(field);
        if (!e.isJsonObject()) {
            throw new InvalidField(field, field + " must be an object, got " + e);
        }
        return e.getAsJsonObject();
    }

    JsonArray array(String field) {
        JsonElement e = body.get(field);
        if (e == null || !e.isJsonArray()) {
            throw new InvalidField(field, field + " must be an array, got " + e);
        }
        return e.getAsJsonArray();
    }

    /** A string or an array of strings (OpenAI's {@code stop}). */
    List<String> strings(String field) {
        if (!has(field)) {
            return List.of();
        }
        JsonElement e = body.get(field);
        List<String> out = new ArrayList<>();
        if (e.isJsonArray()) {
            for (JsonElement s : e.getAsJsonArray()) {
                out.add(asString(field, s));
            }
        } else {
            out.add(asString(field, e));
        }
        return out;
    }

    /** An object of token id (as a string key, as JSON requires) to number (OpenAI's {@code logit_bias}). */
    Map<Integer, Double> idToNumber(String field) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : object(field).entrySet()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException nfe) {
                throw new InvalidField(field, field + " keys must be token ids, got \"" + e.getKey() + "\"");
            }
            out.put(id, asNumber(field, e.getValue()));
        }
        return out;
    }

    static double asNumber(String field, JsonElement e) {
        if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) {
            throw new InvalidField(field, field + " must be a number, got " + e);
        }
        return e.getAsDouble();
    }

    static int asInt(String field, JsonElement e) {
        double d = asNumber(field, e);
        if (d != Math.rint(d) || d > Integer.MAX_VALUE || d < Integer.MIN_VALUE) {
            throw new InvalidField(field, field + " must be an integer, got " + e);
        }
        return (int) d;
    }

    static String asString(String field, JsonElement e) {
        if (!(e.isJsonPrimitive() && ((JsonPrimitive) e).isString())) {
            throw new InvalidField(field, field + " must be a string, got " + e);
        }
        return e.getAsString();
    }
}
