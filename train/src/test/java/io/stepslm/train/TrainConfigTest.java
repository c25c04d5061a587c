package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.model.Precision;
import org.junit.jupiter.api.Test;

class TrainConfigTest {

    @Test
    void jsonRoundTripIsIdentity() {
        TrainConfig c = TrainConfig.demo();
        assertEquals(c, TrainConfig.fromJson(c.toJson()));
    }

    @Test
    void precedenceIsDefaultsThenFileThenFlags() {
        JsonObject file = JsonParser.parseString("{\"learningRate\": 0.002, \"batchSize\": 8}").getAsJsonObject();
        JsonObject flags = JsonParser.parseString("{\"batchSize\": 4}").getAsJsonObject();
        TrainConfig c = TrainConfig.shakespeareChar().withOverrides(file, "run.json").withOverrides(flags, "flags");
        assertEquals(0.002, c.learningRate());
        assertEquals(4, c.batchSize());
        assertEquals(TrainConfig.shakespeareChar().maxSteps(), c.maxSteps());
    }

    @Test
    void unknownKeyIsRejectedByNameWithASuggestion() {
        JsonObject file = JsonParser.parseString("{\"batch_size\": 8}").getAsJsonObject();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.shakespeareChar().withOverrides(file, "run.json"));
        assertTrue(e.getMessage().contains("'batch_size'") && e.getMessage().contains("run.json")
                && e.getMessage().contains("'batchSize'"), e.getMessage());
    }

    @Test
    void invalidValuesNameTheKey() {
        JsonObject bad = JsonParser.parseString("{\"schedule\": \"step\"}").getAsJsonObject();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.tiny().withOverrides(bad, "flags"));
        assertTrue(e.getMessage().contains("schedule"), e.getMessage());
        JsonObject wrongType = JsonParser.parseString("{\"batchSize\": \"many\"}").getAsJsonObject();
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.tiny().withOverrides(wrongType, "x.json"));
        assertTrue(e.getMessage().contains("x.json"), e.getMessage());
        JsonObject warmup = JsonParser.parseString("{\"warmupSteps\": -1}").getAsJsonObject();
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.shakespeareChar().withOverrides(warmup, "flags"));
        assertTrue(e.getMessage().contains("warmupSteps"), e.getMessage());
        JsonObject fraction = JsonParser.parseString("{\"batchSize\": 1.5}").getAsJsonObject();
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.tiny().withOverrides(fraction, "x.json"));
        assertTrue(e.getMessage().contains("x.json: batchSize is 1.5, but it must be a whole number"), e.getMessage());
    }

    @Test
    void unknownPresetListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.preset("huge"));
        assertTrue(e.getMessage().contains("shakespeare-char"), e.getMessage());
    }

    @Test
    void presetsAreNamedOverridesOfTheBase() {
        // the values the presets had when each was written out in full
        assertEquals(new TrainConfig(1337, 12, 1, 64, 1500, Schedule.COSINE, 2e-3, 2e-4, 100, 0.1, 0.9, 0.99, 1e-8,
                1.0, Precision.FP32, 65536, 2000, 5, 250, 20, 500, 2, 0, 50), TrainConfig.demo());
        assertEquals(new TrainConfig(1337, 4, 1, 16, 20, Schedule.COSINE, 3e-3, 3e-4, 2, 0.1, 0.9, 0.99, 1e-8, 1.0,
                Precision.FP32, 65536, 2000, 5, 10, 2, 10, 2, 0, 5), TrainConfig.tiny());
        assertEquals(TrainConfig.shakespeareChar(), TrainConfig.preset("default"));
    }

    @Test
    void scheduleAndPrecisionAreEnumsWrittenAsTheirIds() {
        String json = TrainConfig.shakespeareChar().toJson();
        assertTrue(json.contains("\"schedule\": \"cosine\"") && json.contains("\"precision\": \"fp32\""), json);
        TrainConfig c =
                TrainConfig.tiny().withOverrides("{\"schedule\": \"linear\", \"precision\": \"bf16\"}", "flags");
        assertEquals(Schedule.LINEAR, c.schedule());
        assertEquals(Precision.BF16, c.precision());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.tiny().withOverrides("{\"precision\": \"fp8\"}", "run.json"));
        assertTrue(e.getMessage().contains("run.json") && e.getMessage().contains("fp8")
                && e.getMessage().contains("bf16"), e.getMessage());
    }
}
