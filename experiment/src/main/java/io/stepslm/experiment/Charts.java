package io.stepslm.experiment;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Line charts (JFreeChart) as PNG bytes, and as {@code <img>} tags with the PNG inlined, for self-contained HTML. */
final class Charts {

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0x17becf), new Color(0x7f7f7f)};

    private Charts() {}

    /** Named series of (x, y) points, in legend order. */
    static final class Series {
        final Map<String, List<double[]>> lines = new LinkedHashMap<>();
        final Map<String, Integer> colors = new LinkedHashMap<>();

        /** A line in colour {@code color} (an index into the palette; lines of one kind share one). */
        Series add(String name, List<double[]> points, int color) {
            lines.put(name, points);
            colors.put(name, color);
            return this;
        }
    }

    static byte[] png(String title, String xLabel, String yLabel, Series series) {
        System.setProperty("java.awt.headless", "true"); // charts render without a display (CI, servers)
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, List<double[]>> e : series.lines.entrySet()) {
            XYSeries s = new XYSeries(e.getKey(), false, true);
            for (double[] p : e.getValue()) {
                if (Double.isFinite(p[1])) {
                    s.add(p[0], p[1]);
                }
            }
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getRangeAxis().setAutoRange(true);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, COLORS[series.colors.get((String) data.getSeriesKey(i)) % COLORS.length]);
            r.setSeriesStroke(i, new BasicStroke(1.8f));
            r.setSeriesShapesVisible(i, data.getItemCount(i) <= 40);
        }
        plot.setRenderer(r);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, chart, 640, 400);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array stream does not fail
        }
        return out.toByteArray();
    }

    static String img(byte[] png, String alt) {
        return "<img alt=\"" + alt.replace("\"", "'") + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png) + "\">";
    }
}
