package io.stepslm.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.stepslm.files.AtomicFiles;
import io.stepslm.model.Diagnostics;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The run's metrics: one JSON object per line in {@code metrics.jsonl} (type "train" every log interval, "eval"
 * at every evaluation), flushed as written so a killed run loses nothing, and kept in memory for the report.
 */
public final class Metrics implements AutoCloseable {

    public static final String FILE = "metrics.jsonl";

    /** One line of the file; {@link #type()} is its "type" field, the components are the others. */
    public sealed interface Record permits Train, Eval {
        String type();
    }

    /**
     * The mean of one log interval.
     *
     * @param mfu model FLOPs utilisation, null when no peak is known (then left out of the line)
     */
    public record Train(long step, double loss, double lr, double gradNorm, double tokensPerSec, double msPerStep,
                        double lossScale, Double mfu) implements Record {
        @Override
        public String type() {
            return "train";
        }
    }

    /**
     * One evaluation on the validation split.
     *
     * @param bitsPerByte null when the bytes per token are unknown (then left out of the line)
     * @param shortcutRatio StepsNet's shortcut ratio at the embedding and after each block, on the first validation
     *                      batch (docs/design.md, "StepsNet as implemented"); null: not measured
     */
    public record Eval(long step, double valLoss, double perplexity, Double bitsPerByte,
                       List<Diagnostics.ShortcutRatio> shortcutRatio) implements Record {
        @Override
        public String type() {
            return "eval";
        }
    }

    // a skipped step's loss is NaN or infinite and still recorded; nulls (no MFU, no bits per byte) are left out
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

    private final Path file;
    private final List<JsonObject> records = new ArrayList<>();
    private BufferedWriter out;

    private Metrics(Path file) {
        this.file = file;
    }

    /** Opens {@code dir/metrics.jsonl}, keeping the records already there (a resumed run). */
    public static Metrics open(Path dir) throws IOException {
        Metrics m = new Metrics(dir.resolve(FILE));
        if (Files.exists(m.file)) {
            for (String line : Files.readAllLines(m.file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    m.records.add(JsonParser.parseString(line).getAsJsonObject());
                }
            }
        }
        m.out = Files.newBufferedWriter(m.file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return m;
    }

    /**
     * Replaces the file's content with {@code snapshot} (the metrics stored in the checkpoint being resumed), so that
     * records a killed run wrote after that checkpoint do not appear twice.
     */
    public static Metrics openAt(Path dir, List<String> snapshot) throws IOException {
        AtomicFiles.writeLines(dir.resolve(FILE), snapshot);
        return open(dir);
    }

    /** Appends {@code record} to the file (flushed) and to the records in memory. */
    public void add(Record record) throws IOException {
        JsonObject line = new JsonObject();
        line.addProperty("type", record.type()); // first, for people reading the file
        for (Map.Entry<String, JsonElement> e : GSON.toJsonTree(record).getAsJsonObject().entrySet()) {
            line.add(e.getKey(), e.getValue());
        }
        records.add(line);
        out.write(line.toString());
        out.newLine();
        out.flush();
    }

    public List<JsonObject> records() {
        return records;
    }

    /** The records as JSON lines, for storing in a checkpoint. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>(records.size());
        for (JsonObject r : records) {
            lines.add(r.toString());
        }
        return lines;
    }

    /** (x, y) series of a numeric field over the records of one type, x being "step". */
    public double[][] series(String type, String field) {
        List<double[]> points = new ArrayList<>();
        for (JsonObject r : records) {
            if (type.equals(r.get("type").getAsString()) && r.has(field)) {
                points.add(new double[] {r.get("step").getAsDouble(), r.get(field).getAsDouble()});
            }
        }
        return points.toArray(new double[0][]);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
