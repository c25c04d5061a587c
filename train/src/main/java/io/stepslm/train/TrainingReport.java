package io.stepslm.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code report.html} with PNG charts (train and validation loss, learning rate, throughput), rebuilt from the
 * metrics by the caller of the trainer (at every evaluation with {@link #atEachEvaluation}); each file is written
 * to a temporary name and renamed, so a browser or a crash never sees half a report.
 */
public final class TrainingReport {

    public static final String FILE = "report.html";
    private static final String LOSS = "loss.png";
    private static final String LR = "lr.png";
    private static final String THROUGHPUT = "throughput.png";
    /** Every file the report consists of, in the run folder. */
    public static final List<String> FILES = List.of(FILE, LOSS, LR, THROUGHPUT);

    private TrainingReport() {}

    /** Rebuilds the report of the run in {@code runDir} after every evaluation of its trainer. */
    public static Trainer.EvaluationListener atEachEvaluation(Path runDir, TrainConfig config) {
        String title = "stepslm training run: " + runDir.toAbsolutePath().getFileName();
        String configJson = config.toJson();
        return metrics -> write(runDir, metrics, title, configJson);
    }

    public static void write(Path dir, Metrics metrics, String title, String configJson) throws IOException {
        System.setProperty("java.awt.headless", "true"); // charts render without a display (CI, servers)
        chart(dir.resolve(LOSS), "Loss", "loss",
                new String[] {"train", "validation"},
                metrics.series("train", "loss"), metrics.series("eval", "valLoss"));
        chart(dir.resolve(LR), "Learning rate", "lr", new String[] {"lr"}, metrics.series("train", "lr"));
        chart(dir.resolve(THROUGHPUT), "Throughput", "tokens/s", new String[] {"tokens/s"},
                metrics.series("train", "tokensPerSec"));
        List<JsonObject> withRatios = new ArrayList<>();
        for (JsonObject r : metrics.records()) {
            if ("eval".equals(r.get("type").getAsString()) && r.has("shortcutRatio")) {
                withRatios.add(r);
            }
        }
        String ratioImg = "";
        if (!withRatios.isEmpty()) {
            // the curve at the first evaluation (step 0: initialisation) and at the latest (shortcut degradation)
            JsonObject first = withRatios.get(0);
            JsonObject latest = withRatios.get(withRatios.size() - 1);
            String a = "step " + first.get("step").getAsLong();
            String b = "step " + latest.get("step").getAsLong();
            if (first == latest) {
                chart(dir.resolve("shortcut-ratio.png"), "Shortcut ratio std(z0) / std(zl)", "normalised depth",
                        "ratio", new String[] {a + " (slice)", a + " (full width)"}, ratios(first, "slice"),
                        ratios(first, "full"));
            } else {
                chart(dir.resolve("shortcut-ratio.png"), "Shortcut ratio std(z0) / std(zl)", "normalised depth",
                        "ratio", new String[] {a + " (slice)", a + " (full width)", b + " (slice)",
                            b + " (full width)"},
                        ratios(first, "slice"), ratios(first, "full"), ratios(latest, "slice"), ratios(latest, "full"));
            }
            ratioImg = "<img src=\"shortcut-ratio.png\" alt=\"shortcut ratio\">";
        }
        StringBuilder rows = new StringBuilder();
        for (double[] p : metrics.series("eval", "valLoss")) {
            rows.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.4f</td><td>%.2f</td></tr>%n",
                    (long) p[0], p[1], Math.exp(p[1])));
        }
        String html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>"
                + "<style>body{font-family:sans-serif;margin:2em}img{max-width:48%}"
                + "td,th{padding:2px 12px;text-align:right}</style>"
                + "</head><body><h1>" + escape(title) + "</h1>"
                + "<img src=\"loss.png\" alt=\"loss\"><img src=\"lr.png\" alt=\"learning rate\">"
                + "<img src=\"throughput.png\" alt=\"throughput\">" + ratioImg
                + "<h2>Evaluations</h2><table><tr><th>step</th><th>val loss</th><th>perplexity</th></tr>" + rows
                + "</table>"
                + "<h2>Configuration</h2><pre>" + escape(configJson) + "</pre></body></html>\n";
        AtomicFiles.writeString(dir.resolve(FILE), html);
    }

    private static void chart(Path file, String title, String yLabel, String[] names, double[][]... series)
            throws IOException {
        chart(file, title, "step", yLabel, names, series);
    }

    private static void chart(Path file, String title, String xLabel, String yLabel, String[] names,
                              double[][]... series) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int i = 0; i < series.length; i++) {
            XYSeries s = new XYSeries(names[i]);
            for (double[] p : series[i]) {
                s.add(p[0], p[1]);
            }
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true,
                false, false);
        AtomicFiles.write(file, tmp -> ChartUtils.saveChartAsPNG(tmp.toFile(), chart, 640, 400));
    }

    /** (depth, ratio) points of one evaluation line's shortcut ratios. */
    private static double[][] ratios(JsonObject eval, String which) {
        JsonArray a = eval.getAsJsonArray("shortcutRatio");
        double[][] p = new double[a.size()][];
        for (int i = 0; i < a.size(); i++) {
            JsonObject r = a.get(i).getAsJsonObject();
            p[i] = new double[] {r.get("depth").getAsDouble(), r.get(which).getAsDouble()};
        }
        return p;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
