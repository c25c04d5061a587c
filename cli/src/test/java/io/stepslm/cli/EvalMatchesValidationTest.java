package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.datasets.BuiltinCorpus;
import io.stepslm.model.ModelFiles;
import io.stepslm.model.KernelChoice;
import io.stepslm.model.LanguageModel;
import io.stepslm.model.ModelRuntime;
import io.stepslm.model.Precision;
import io.stepslm.tokenizer.Tokenizer;
import io.stepslm.tokenizer.TokenizerFiles;
import io.stepslm.train.TokenWindows;
import io.stepslm.train.TrainConfig;
import io.stepslm.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `eval --context C --stride C` scores the windows the trainer's validation scores: on the same text, joined as in
 * training (end-of-text, the document, end-of-text), both give the same loss up to float rounding, not "within 0.01".
 */
class EvalMatchesValidationTest {
    private static final int C = 32;

    @Test
    void evalWithStrideEqualToContextIsTheTrainersValidationLoss(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("austen.txt"), BuiltinCorpus.text().substring(0, 60_000));
        Path run = dir.resolve("run");
        CliRun trained = ErrorMessagesTest.quietly(() -> CliRun.of("train", "--char", "--data", corpus.toString(),
                "--preset", "tiny", "--max-steps", "20", "--batch-size", "4", "--context", "" + C, "--threads", "1",
                "--out", run.toString()));
        assertEquals(0, trained.exit(), trained.err());
        Path checkpoint = run.resolve("checkpoints/step-000020");
        // 8 windows of C exactly: end-of-text + 8 C - 1 characters + end-of-text = 8 C + 1 ids, no partial window
        String text = BuiltinCorpus.text().substring(80_000, 80_000 + 8 * C - 1);
        Path file = Files.writeString(dir.resolve("held-out.txt"), text);

        String json = CliRun.stdout(() -> CliRun.of("eval", "--checkpoint", checkpoint.toString(), "--context", "" + C,
                "--stride", "" + C, "--json", file.toString()), 0);
        JsonObject total = JsonParser.parseString(json.substring(json.indexOf('{'))).getAsJsonObject()
                .getAsJsonObject("total");
        assertEquals(8 * C, total.get("tokens").getAsLong(), json);

        Tokenizer tokenizer = TokenizerFiles.load(checkpoint.resolve("tokenizer.json"));
        int[] body = tokenizer.encode(text);
        int[] ids = new int[body.length + 2];
        ids[0] = tokenizer.endOfTextId();
        System.arraycopy(body, 0, ids, 1, body.length);
        ids[ids.length - 1] = tokenizer.endOfTextId();
        assertEquals(8 * C + 1, ids.length, Arrays.toString(ids));
        TrainConfig config = TrainConfig.tiny().withOverrides(JsonParser.parseString("{\"context\": " + C
                + ", \"batchSize\": 4, \"evalBatches\": 100}").getAsJsonObject(), "test");
        double validation;
        try (LanguageModel model = ModelFiles.load(checkpoint.resolve("model"),
                ModelRuntime.open(Device.cpu(), KernelChoice.FUSED, Precision.FP32, 0));
             Trainer trainer = new Trainer(model, tokenizer, config, dir.resolve("scratch"),
                     new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 1.0)) {
            validation = trainer.evaluate(() -> TokenWindows.sequential(ids, C));
        }
        double loss = total.get("loss").getAsDouble();
        assertTrue(Math.abs(loss - validation) <= 1e-5 * validation, "eval " + loss + " vs the trainer's validation "
                + validation);
    }
}
