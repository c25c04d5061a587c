package io.stepslm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.shakespeareChar().withOverrides(warmup, "flags"));
        assertTrue(e.getMessage().contains("warmupSteps"), e.getMessage());
    }

    @Test
    void unknownPresetListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.preset("huge"));
        assertTrue(e.getMessage().contains("shakespeare-char"), e.getMessage());
    }
}
