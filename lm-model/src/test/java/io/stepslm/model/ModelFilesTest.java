package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stepslm.machine.CpuThreads;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save -> load round trip, and refusal of corrupt or mismatched checkpoints with clear messages. */
class ModelFilesTest {

    @BeforeAll
    static void oneThread() {
        new CpuThreads(1).apply(); // tiny models: one libtorch thread (see LanguageModelBehaviourTest)
    }

    @TempDir
    Path tmp;

    static ModelConfig config() {
        return new ModelConfig(70, 16, 32, 4, 4.0, ModelConfig.MlpKind.SWIGLU, ModelConfig.NormKind.RMS_NORM,
                ModelConfig.PositionKind.ROTARY, 0.0, true, false,
                List.of(new ModelConfig.Step(16, 2), new ModelConfig.Step(32, 1)));
    }

    @Test
    void saveThenLoadGivesIdenticalLogits() throws IOException {
        Path dir = tmp.resolve("ckpt");
        try (LanguageModel a = ReferenceParityTest.randomModel(config(), new ReferenceKernels(), 3);
             NDManager m = NDManager.newBaseManager()) {
            ModelFiles.save(dir, a);
            ModelFiles.save(dir, a); // overwriting works and leaves no temporary files
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of("config.json", "model.safetensors"),
                        files.map(p -> p.getFileName().toString()).sorted().toList());
            }
            try (LanguageModel b = ModelFiles.load(dir, ModelRuntime.cpu(new ReferenceKernels()))) {
                assertEquals(a.config(), b.config());
                assertEquals(List.copyOf(a.parameters().keySet()), List.copyOf(b.parameters().keySet()));
                a.parameters().forEach((k, v) -> assertArrayEquals(v.toFloatArray(),
                        b.parameters().get(k).toFloatArray(), k));
                NDArray tokens = m.create(LanguageModelBehaviourTest.randomTokens(32, 70, 1), new Shape(2, 16));
                assertArrayEquals(a.logits(tokens, false).toFloatArray(), b.logits(tokens, false).toFloatArray());
            }
        }
        String header = Files.readString(dir.resolve("config.json"), StandardCharsets.UTF_8);
        assertTrue(header.contains("\"steps\""), header);
        // readable like any file the user creates there (the umask decides, not a temporary file's 0600)
        var plain = Files.getPosixFilePermissions(Files.writeString(tmp.resolve("plain.txt"), "x"));
        assertEquals(plain, Files.getPosixFilePermissions(dir.resolve("config.json")));
        assertEquals(plain, Files.getPosixFilePermissions(dir.resolve("model.safetensors")));
    }

    @Test
    void corruptOrMismatchedCheckpointsAreRefused() throws IOException {
        Path good = tmp.resolve("good");
        try (LanguageModel a = LanguageModel.create(config(), ModelRuntime.cpu(new ReferenceKernels()))) {
            ModelFiles.save(good, a);
        }
        Path weights = good.resolve(ModelFiles.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);

        Path flipped = copy(good, "flipped");
        byte[] f = bytes.clone();
        f[f.length - 5] ^= 0x10; // one bit in the last tensor's data
        Files.write(flipped.resolve(ModelFiles.WEIGHTS_FILE), f);
        assertRefused(flipped, "checksum");

        Path truncated = copy(good, "truncated");
        try (RandomAccessFile raf = new RandomAccessFile(truncated.resolve(ModelFiles.WEIGHTS_FILE).toFile(), "rw")) {
            raf.setLength(bytes.length - 4);
        }
        assertRefused(truncated, "truncated");

        Path garbage = copy(good, "garbage");
        Files.write(garbage.resolve(ModelFiles.WEIGHTS_FILE), "not a safetensors file".getBytes());
        assertRefused(garbage, "corrupt");

        Path otherShape = copy(good, "other-shape"); // config.json of a wider model
        ModelConfig wider = new ModelConfig(70, 16, 48, 6, 4.0, ModelConfig.MlpKind.SWIGLU,
                ModelConfig.NormKind.RMS_NORM, ModelConfig.PositionKind.ROTARY, 0.0, true, false,
                List.of(new ModelConfig.Step(24, 2), new ModelConfig.Step(48, 1)));
        Files.writeString(otherShape.resolve(ModelFiles.CONFIG_FILE), wider.toJson());
        assertRefused(otherShape, "does not match");

        Path sameShape = copy(good, "same-shape"); // vocabulary 71 pads to the same 128 rows: caught by metadata
        Files.writeString(sameShape.resolve(ModelFiles.CONFIG_FILE), config().withVocabSize(71).toJson());
        assertRefused(sameShape, "saved with the config");

        Path noWeights = copy(good, "no-weights");
        Files.delete(noWeights.resolve(ModelFiles.WEIGHTS_FILE));
        assertRefused(noWeights, "not found");

        Path noConfig = copy(good, "no-config");
        Files.delete(noConfig.resolve(ModelFiles.CONFIG_FILE));
        assertRefused(noConfig, "not a stepslm checkpoint");
    }

    private Path copy(Path from, String name) throws IOException {
        Path to = tmp.resolve(name);
        Files.createDirectories(to);
        for (String f : List.of(ModelFiles.CONFIG_FILE, ModelFiles.WEIGHTS_FILE)) {
            Files.copy(from.resolve(f), to.resolve(f));
        }
        return to;
    }

    private static void assertRefused(Path dir, String part) {
        Exception e = assertThrows(Exception.class, () -> {
            try (LanguageModel ignored = ModelFiles.load(dir, ModelRuntime.cpu(new ReferenceKernels()))) {
                // must not get here
            }
        });
        assertTrue(e instanceof IOException || e instanceof IllegalArgumentException, e.toString());
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        assertTrue(e.getMessage().contains(dir.getFileName().toString()), "message must name the file: "
                + e.getMessage());
    }
}
