package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.datasets.BuiltinCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the README promises about interrupted runs, through the command line: a `train` killed with kill -9 at
 * random moments (inside checkpoint writes too) and resumed each time ends exactly as the uninterrupted run, every
 * logged loss and the final weights and optimizer state bit for bit; also with accumulation and FP16 loss scaling,
 * and with prepared shards.
 */
class ResumeThroughTheCliTest {
    /** Steps of the 20-kill run; the other variants run fewer (FP16 is slow on CPUs). */
    private static final int STEPS = 45;

    @TempDir
    Path dir;
    Path corpus;

    @BeforeEach
    void corpus() throws IOException {
        corpus = Files.writeString(dir.resolve("austen.txt"), BuiltinCorpus.text().substring(0, 100_000));
    }

    private List<String> args(int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("--model", "char-tiny", "--preset", "tiny", "--max-steps", "" + steps,
                "--batch-size", "4", "--context", "32", "--log-interval", "1", "--eval-interval", "15",
                        "--eval-batches",
                "2", "--checkpoint-interval", "1", "--threads", "1"));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    @Tag("slow")
    void twentyKillsAtRandomMomentsEndExactlyAsTheUninterruptedRun() throws IOException {
        int kills = Integer.getInteger("stepslm.kills", 20);
        List<String> args = args(STEPS, "--char", "--data", corpus.toString());
        KilledRun.straight(args, dir.resolve("straight"));
        long seed = System.nanoTime();
        int progressed = KilledRun.withKills(args, dir.resolve("killed"), kills, seed);
        assertTrue(progressed >= kills / 2, "only " + progressed + " of " + kills
                + " kills were followed by a newer checkpoint");
        assertSameRun(dir.resolve("straight"), dir.resolve("killed"), STEPS, "seed " + seed);
    }

    @Test
    @Tag("slow")
    void accumulationAndFp16LossScalingResumeBitExactly() throws IOException {
        List<String> args = args(16, "--char", "--data", corpus.toString(), "--accumulation", "2", "--precision",
                "fp16");
        KilledRun.straight(args, dir.resolve("straight"));
        long seed = System.nanoTime();
        KilledRun.withKills(args, dir.resolve("killed"), 2, seed);
        assertSameRun(dir.resolve("straight"), dir.resolve("killed"), 16, "seed " + seed);
        assertTrue(KilledRun.metrics(dir.resolve("killed"), "train", "lossScale").stream().allMatch(s -> s > 0),
                "FP16 runs record their loss scale");
    }

    /** A char tokenizer of {@code corpus} and the shards prepared from it with that tokenizer, under {@code dir}. */
    record Shards(Path tokenizer, Path data) {
        static Shards prepare(Path dir, Path corpus) {
            Path tok = dir.resolve("tokenizer.json");
            assertEquals(0, CliRun.of("tokenizer", "train", "--char", "--input", corpus.toString(), "--out",
                    tok.toString()).exit());
            Path data = dir.resolve("data");
            CliRun prepared = CliRun.of("data", "prepare", "--input", corpus.toString(), "--format", "blocks",
                    "--val-fraction", "0.2", "--tokenizer", tok.toString(), "--out", data.toString(), "--quiet");
            assertEquals(0, prepared.exit(), prepared.err());
            return new Shards(tok, data);
        }
    }

    @Test
    void preparedShardsResumeBitExactly() throws IOException {
        Shards shards = Shards.prepare(dir, corpus);
        List<String> args = args(20, "--shards", shards.data().toString(), "--tokenizer",
                shards.tokenizer().toString());
        KilledRun.straight(args, dir.resolve("straight"));
        long seed = System.nanoTime();
        KilledRun.withKills(args, dir.resolve("killed"), 2, seed);
        assertSameRun(dir.resolve("straight"), dir.resolve("killed"), 20, "seed " + seed);
    }

    /** Every logged training and validation loss, and the final weights and optimizer state, bit for bit. */
    static void assertSameRun(Path straight, Path killed, int steps, String how) throws IOException {
        List<Double> losses = KilledRun.metrics(straight, "train", "loss");
        assertEquals(steps, losses.size(), "one record per step");
        assertEquals(losses, KilledRun.metrics(killed, "train", "loss"), how);
        assertEquals(KilledRun.metrics(straight, "eval", "valLoss"), KilledRun.metrics(killed, "eval", "valLoss"), how);
        Path last = Path.of("checkpoints", String.format("step-%06d", steps));
        for (String file : List.of("model/model.safetensors", "optimizer.ndlist")) {
            assertArrayEquals(Files.readAllBytes(straight.resolve(last).resolve(file)),
                    Files.readAllBytes(killed.resolve(last).resolve(file)), file + " (" + how + ")");
        }
        assertEquals(state(straight.resolve(last)), state(killed.resolve(last)), "train-state.json (" + how + ")");
    }

    /** train-state.json without the wall-clock time (the killed run spent longer). */
    private static JsonObject state(Path checkpoint) throws IOException {
        String json = Files.readString(checkpoint.resolve("train-state.json"));
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        o.remove("elapsedSeconds");
        return o;
    }
}
