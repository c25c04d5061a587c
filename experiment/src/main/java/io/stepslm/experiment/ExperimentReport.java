package io.stepslm.experiment;

import io.stepslm.model.Diagnostics.ShortcutRatio;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The experiment's summary: per pair the mean and spread over seeds of every figure, and the differences StepsNet
 * minus plain per seed (same seed = same initial data order), at equal tokens and at equal wall-clock time.
 * Written as {@code results.json} (every number, every run) and a self-contained {@code report.html}.
 *
 * @param pending runs of the plan without a result yet (a partial experiment)
 */
public record ExperimentReport(ExperimentConfig config, String data, int threads, List<PairSummary> pairs,
                               List<RunResult> runs, List<String> pending) {

    /** Mean and sample standard deviation (NaN below two values) of n values. */
    public record Stat(int n, double mean, double std) {
        static Stat of(List<Double> values) {
            int n = values.size();
            double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
            return new Stat(n, mean, n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN);
        }

        String text(String format) {
            if (n == 0) {
                return "-";
            }
            String m = String.format(Locale.ROOT, format, mean);
            return n > 1 ? m + " &plusmn; " + String.format(Locale.ROOT, format, std) + " (" + n + ")" : m + " (1)";
        }
    }

    /**
     * One pair over its seeds. {@code deltaTokens}: StepsNet minus plain validation loss at the same tokens;
     * {@code deltaTime}: the time-matched StepsNet minus plain (negative = StepsNet better).
     */
    public record PairSummary(String pair, long plainParameters, long stepsParameters, double mismatchPercent,
                              long plainNonEmbedding, long stepsNonEmbedding, int plainBlocks, int stepsBlocks,
                              double plainFlopsPerToken, double stepsFlopsPerToken, Stat plainLoss, Stat stepsLoss,
                              Stat stepsTimeLoss, Stat plainPerplexity, Stat stepsPerplexity, Stat stepsTimePerplexity,
                              Stat plainBitsPerByte, Stat stepsBitsPerByte, Stat plainTokensPerSecond,
                              Stat stepsTokensPerSecond, Stat plainCpuSecondsPerStep, Stat stepsCpuSecondsPerStep,
                              Stat stepsTimeTokens, Stat deltaTokens, Stat deltaTime,
                              Stat plainRatioLast, Stat stepsRatioLastSlice, Stat stepsRatioLastFull,
                              Stat plainRatioMin, Stat stepsRatioMinSlice) {}

    public static ExperimentReport of(ExperimentConfig config, List<RunResult> runs, List<String> pending,
                                      String data, int threads) {
        List<PairSummary> pairs = new ArrayList<>();
        for (Pair p : config.pairs()) {
            Map<Long, RunResult> plain = bySeed(runs, p, RunSpec.Kind.PLAIN);
            Map<Long, RunResult> steps = bySeed(runs, p, RunSpec.Kind.STEPS);
            Map<Long, RunResult> stepsTime = bySeed(runs, p, RunSpec.Kind.STEPS_TIME);
            if (plain.isEmpty() && steps.isEmpty()) {
                continue;
            }
            int ctx = config.train().context();
            int v = (plain.isEmpty() ? steps : plain).values().iterator().next().model().vocabSize();
            var pc = p.plain(v, ctx);
            var sc = p.steps(v, ctx);
            List<Double> dTokens = new ArrayList<>();
            List<Double> dTime = new ArrayList<>();
            for (Map.Entry<Long, RunResult> e : plain.entrySet()) {
                if (steps.containsKey(e.getKey())) {
                    dTokens.add(steps.get(e.getKey()).valLoss() - e.getValue().valLoss());
                }
                if (stepsTime.containsKey(e.getKey())) {
                    dTime.add(stepsTime.get(e.getKey()).valLoss() - e.getValue().valLoss());
                }
            }
            pairs.add(new PairSummary(p.name(),
                    io.stepslm.model.Diagnostics.parameterCount(pc, true),
                    io.stepslm.model.Diagnostics.parameterCount(sc, true), 100 * p.mismatch(v, ctx),
                    io.stepslm.model.Diagnostics.parameterCount(pc, false),
                    io.stepslm.model.Diagnostics.parameterCount(sc, false), pc.blocks(), sc.blocks(),
                    io.stepslm.model.Diagnostics.flopsPerToken(pc, ctx),
                    io.stepslm.model.Diagnostics.flopsPerToken(sc, ctx),
                    stat(plain, RunResult::valLoss), stat(steps, RunResult::valLoss),
                    stat(stepsTime, RunResult::valLoss), stat(plain, RunResult::perplexity),
                    stat(steps, RunResult::perplexity), stat(stepsTime, RunResult::perplexity),
                    stat(plain, RunResult::bitsPerByte), stat(steps, RunResult::bitsPerByte),
                    stat(plain, RunResult::tokensPerSecond), stat(steps, RunResult::tokensPerSecond),
                    stat(plain, RunResult::cpuSecondsPerStep), stat(steps, RunResult::cpuSecondsPerStep),
                    stat(stepsTime, r -> r.tokens()), Stat.of(dTokens), Stat.of(dTime),
                    stat(plain, r -> last(r).full()), stat(steps, r -> last(r).slice()),
                    stat(steps, r -> last(r).full()), stat(plain, r -> min(r, false)), stat(steps, r -> min(r, true))));
        }
        return new ExperimentReport(config, data, threads, pairs, runs, pending);
    }

    private static Map<Long, RunResult> bySeed(List<RunResult> runs, Pair p, RunSpec.Kind kind) {
        Map<Long, RunResult> m = new TreeMap<>();
        for (RunResult r : runs) {
            if (r.pair().equals(p.name()) && r.kind().equals(kind.id)) {
                m.put(r.seed(), r);
            }
        }
        return m;
    }

    /** Over the runs where {@code f} is known (CPU time is not for resumed runs). */
    private static Stat stat(Map<Long, RunResult> runs, ToDoubleFunction<RunResult> f) {
        List<Double> v = new ArrayList<>();
        for (RunResult r : runs.values()) {
            double x = f.applyAsDouble(r);
            if (Double.isFinite(x)) {
                v.add(x);
            }
        }
        return Stat.of(v);
    }

    private static ShortcutRatio last(RunResult r) {
        List<ShortcutRatio> ratios = r.diagnosis().ratios();
        return ratios.get(ratios.size() - 1);
    }

    private static double min(RunResult r, boolean slice) {
        return r.diagnosis().ratios().stream().mapToDouble(x -> slice ? x.slice() : x.full()).min().orElse(Double.NaN);
    }

    /** Writes results.json and report.html into {@code dir}, each through a temporary name. */
    public void write(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("results.json"), StepsVsPlain.GSON.toJson(this));
        AtomicFiles.writeString(dir.resolve("report.html"), html());
    }

    String html() {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>stepslm experiment: StepsNet vs plain")
                .append("</title><style>body{font-family:sans-serif;margin:2em;max-width:1400px}")
                .append("td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}")
                .append("th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}")
                .append("img{max-width:32%}table{border-collapse:collapse;margin-bottom:1.5em}</style></head><body>")
                .append("<h1>StepsNet vs plain residual Transformer</h1>");
        h.append("<p>").append(esc(data)).append(". ").append(runs.size()).append(" runs finished");
        if (!pending.isEmpty()) {
            h.append(", <b>").append(pending.size()).append(" pending (partial experiment)</b>: ")
                    .append(esc(String.join(", ", pending)));
        }
        h.append(". libtorch threads per process: ").append(threads).append(".</p>");
        h.append("<p>Validation loss: the final checkpoint scored on the whole validation file as <code>stepslm eval")
                .append("</code> scores it (sliding window of the context, stride half of it). Mean &plusmn; sample ")
                .append("standard deviation (seeds). &Delta;: StepsNet minus plain of the same seed; negative means ")
                .append("StepsNet is better. Equal time: the StepsNet trained for the time its plain partner took ")
                .append("(its step count from the CPU seconds per step after warm-up). Wall-clock tokens/s move with ")
                .append("the machine's other load; CPU seconds per step (one libtorch thread) do not.</p>");
        h.append("<h2>Summary</h2><table><tr><th>pair</th><th>params plain / steps</th><th>non-emb.</th>")
                .append("<th>blocks</th><th>MFLOP/token</th><th>tokens/s plain</th><th>tokens/s steps</th>")
                .append("<th>CPU s/step plain / steps</th>")
                .append("<th>val loss plain</th><th>val loss steps</th><th>&Delta; equal tokens</th>")
                .append("<th>val loss steps, equal time</th><th>&Delta; equal time</th><th>ppl plain / steps</th>")
                .append("<th>bits/byte plain / steps</th></tr>");
        for (PairSummary s : pairs) {
            h.append("<tr><td>").append(esc(s.pair())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%,d / %,d (%+.2f %%)", s.plainParameters(),
                            s.stepsParameters(), s.mismatchPercent())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%,d / %,d", s.plainNonEmbedding(), s.stepsNonEmbedding()))
                    .append("</td><td>").append(s.plainBlocks()).append(" / ").append(s.stepsBlocks())
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.1f / %.1f", s.plainFlopsPerToken() / 1e6,
                            s.stepsFlopsPerToken() / 1e6)).append("</td><td>")
                    .append(s.plainTokensPerSecond().text("%.0f")).append("</td><td>")
                    .append(s.stepsTokensPerSecond().text("%.0f")).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.3f / %.3f", s.plainCpuSecondsPerStep().mean(),
                            s.stepsCpuSecondsPerStep().mean())).append("</td><td>")
                    .append(s.plainLoss().text("%.4f")).append("</td><td>").append(s.stepsLoss().text("%.4f"))
                    .append("</td><td><b>").append(s.deltaTokens().text("%+.4f")).append("</b></td><td>")
                    .append(s.stepsTimeLoss().text("%.4f")).append("</td><td><b>").append(s.deltaTime().text("%+.4f"))
                    .append("</b></td><td>").append(String.format(Locale.ROOT, "%.2f / %.2f",
                            s.plainPerplexity().mean(), s.stepsPerplexity().mean())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.4f / %.4f", s.plainBitsPerByte().mean(),
                            s.stepsBitsPerByte().mean())).append("</td></tr>");
        }
        h.append("</table>");
        h.append("<h2>Shortcut ratio std(z<sub>0</sub>)/std(z<sub>l</sub>) after training</h2><table><tr>")
                .append("<th>pair</th><th>plain, last block</th><th>plain, minimum</th><th>steps, last block ")
                .append("(slice = full)</th><th>steps, minimum over the slice</th></tr>");
        for (PairSummary s : pairs) {
            h.append("<tr><td>").append(esc(s.pair())).append("</td><td>").append(s.plainRatioLast().text("%.3f"))
                    .append("</td><td>").append(s.plainRatioMin().text("%.3f")).append("</td><td>")
                    .append(s.stepsRatioLastSlice().text("%.3f")).append("</td><td>")
                    .append(s.stepsRatioMinSlice().text("%.3f")).append("</td></tr>");
        }
        h.append("</table>");
        for (PairSummary s : pairs) {
            h.append("<h2>").append(esc(s.pair())).append("</h2>").append(charts(s.pair()));
        }
        h.append("<h2>Every run</h2><table><tr><th>run</th><th>steps</th><th>tokens</th><th>train s</th>")
                .append("<th>CPU s/step</th><th>tokens/s</th><th>val loss</th><th>ppl</th><th>bits/byte</th>")
                .append("<th>masking first / last k (k)</th><th>step ablation losses</th><th>checkpoint</th></tr>");
        for (RunResult r : runs) {
            StringBuilder mask = new StringBuilder();
            for (Diagnosis.Masking m : r.diagnosis().masking()) {
                mask.append(String.format(Locale.ROOT, "%.2f / %.2f (%d)<br>", m.firstMasked(), m.lastMasked(),
                        m.channels()));
            }
            StringBuilder skip = new StringBuilder();
            for (Diagnosis.SkippedStep k : r.diagnosis().skippedSteps()) {
                skip.append(String.format(Locale.ROOT, "step %d (%d x %d): %.2f<br>", k.step(), k.depth(), k.width(),
                        k.loss()));
            }
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%,d</td><td>%.0f</td><td>%.3f</td>"
                            + "<td>%.0f</td><td>%.4f</td><td>%.2f</td><td>%.4f</td><td>%s</td><td>%s</td>"
                            + "<td>%s</td></tr>", esc(r.name()), r.steps(), r.tokens(), r.trainSeconds(),
                    r.cpuSecondsPerStep(), r.tokensPerSecond(), r.valLoss(), r.perplexity(), r.bitsPerByte(), mask,
                    skip,
                    esc(r.checkpoint())));
        }
        h.append("</table><h2>Configuration</h2><pre>").append(esc(StepsVsPlain.GSON.toJson(config)))
                .append("</pre></body></html>\n");
        return h.toString();
    }

    private String charts(String pair) {
        Charts.Series byTokens = new Charts.Series();
        Charts.Series byTime = new Charts.Series();
        Charts.Series ratios = new Charts.Series();
        boolean ratiosDrawn = false;
        for (RunSpec.Kind kind : RunSpec.Kind.values()) {
            for (RunResult r : runs) {
                if (!r.pair().equals(pair) || !r.kind().equals(kind.id)) {
                    continue;
                }
                List<double[]> t = new ArrayList<>();
                List<double[]> s = new ArrayList<>();
                for (RunResult.CurvePoint p : r.curve()) {
                    t.add(new double[] {p.tokens() / 1e6, p.valLoss()});
                    s.add(new double[] {p.seconds(), p.valLoss()});
                }
                byTokens.add(kind.id + " s" + r.seed(), t, kind.ordinal());
                byTime.add(kind.id + " s" + r.seed(), s, kind.ordinal());
            }
        }
        // shortcut ratios of the first seed that has both models
        for (RunResult plain : runs) {
            if (ratiosDrawn || !plain.pair().equals(pair) || !plain.kind().equals(RunSpec.Kind.PLAIN.id)) {
                continue;
            }
            for (RunResult steps : runs) {
                if (steps.pair().equals(pair) && steps.kind().equals(RunSpec.Kind.STEPS.id)
                        && steps.seed() == plain.seed()) {
                    ratios.add("plain, init", points(plain.diagnosis().ratiosAtInit(), false), 3);
                    ratios.add("plain, trained", points(plain.diagnosis().ratios(), false), 0);
                    ratios.add("steps, init (slice)", points(steps.diagnosis().ratiosAtInit(), true), 4);
                    ratios.add("steps, trained (slice)", points(steps.diagnosis().ratios(), true), 1);
                    ratios.add("steps, trained (full width)", points(steps.diagnosis().ratios(), false), 2);
                    ratiosDrawn = true;
                    break;
                }
            }
        }
        String out = Charts.img(Charts.png(pair + ": validation loss (trainer's evaluations)", "training tokens (M)",
                "val loss", byTokens), pair + " loss by tokens")
                + Charts.img(Charts.png(pair + ": validation loss against training time", "training seconds (wall)",
                "val loss", byTime), pair + " loss by time");
        if (ratiosDrawn) {
            out += Charts.img(Charts.png(pair + ": shortcut ratio", "normalised depth", "std(z0) / std(zl)", ratios),
                    pair + " shortcut ratio");
        }
        return out;
    }

    static List<double[]> points(List<ShortcutRatio> ratios, boolean slice) {
        List<double[]> p = new ArrayList<>();
        for (ShortcutRatio r : ratios) {
            p.add(new double[] {r.depth(), slice ? r.slice() : r.full()});
        }
        return p;
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
