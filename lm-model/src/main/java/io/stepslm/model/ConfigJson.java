package io.stepslm.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;

/**
 * Checks of config JSON that Gson does not make: reading a record from a JSON tree, Gson truncates {@code 1.5} to
 * {@code 1} for an int field (and wraps out-of-range numbers), so a typo in a config file silently changes the model.
 * Shared by the model and the train config.
 */
public final class ConfigJson {

    private ConfigJson() {}

    /** Refuses a non-integer or out-of-range number for every int or long component of {@code type} in {@code o}. */
    public static void requireWholeNumbers(JsonObject o, Class<? extends Record> type, String source) {
        for (RecordComponent c : type.getRecordComponents()) {
            Class<?> t = c.getType();
            if (o.get(c.getName()) instanceof JsonArray a && c.getGenericType() instanceof ParameterizedType p
                    && p.getActualTypeArguments()[0] instanceof Class<?> element && element.isRecord()) {
                for (int i = 0; i < a.size(); i++) { // nested records, e.g. the model's steps
                    if (a.get(i).isJsonObject()) {
                        requireWholeNumbers(a.get(i).getAsJsonObject(), element.asSubclass(Record.class),
                                source + ": " + c.getName() + "[" + i + "]");
                    }
                }
                continue;
            }
            boolean isInt = t == int.class || t == Integer.class;
            if (!isInt && t != long.class && t != Long.class) {
                continue;
            }
            JsonElement v = o.get(c.getName());
            if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
                continue; // absent, null or not a number: Gson's own error (or the record's validation) applies
            }
            BigDecimal d = v.getAsBigDecimal();
            boolean whole = d.signum() == 0 || d.stripTrailingZeros().scale() <= 0;
            BigDecimal min = BigDecimal.valueOf(isInt ? Integer.MIN_VALUE : Long.MIN_VALUE);
            BigDecimal max = BigDecimal.valueOf(isInt ? Integer.MAX_VALUE : Long.MAX_VALUE);
            if (!whole || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new IllegalArgumentException(source + ": " + c.getName() + " is " + v
                        + ", but it must be a whole "
                        + "number" + (whole ? " within " + min + ".." + max : "") + ": write e.g. "
                        + d.setScale(0, java.math.RoundingMode.HALF_UP).max(min).min(max));
            }
        }
    }
}
