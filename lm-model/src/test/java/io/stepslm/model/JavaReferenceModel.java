package io.stepslm.model;

import java.util.Map;

/**
 * A plain-Java, double-precision forward pass of the same architecture (written from the design note and the GPT-2 /
 * LLaMA papers, sharing no code with the DJL model except the parameter names): the oracle for parity and for
 * finite-difference gradients. One sequence at a time, row-major weights (out, in) as PyTorch.
 */
final class JavaReferenceModel {

    private final ModelConfig c;
    private final Map<String, double[]> p;

    JavaReferenceModel(ModelConfig config, Map<String, double[]> params) {
        this.c = config;
        this.p = params;
    }

    /** Logits (T, V) over the real vocabulary for one sequence. */
    double[][] logits(int[] tokens) {
        int t = tokens.length;
        int cw = c.width();
        double[][] x = new double[t][cw];
        double[] wte = p.get("wte.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < cw; j++) {
                x[i][j] = wte[tokens[i] * cw + j];
                if (c.positions() == ModelConfig.PositionKind.LEARNED) {
                    x[i][j] += p.get("wpe.weight")[i * cw + j];
                }
            }
        }
        double[][] y = new double[t][0];
        int prev = 0;
        for (int s = 0; s < c.steps().size(); s++) {
            int w = c.steps().get(s).width();
            for (int i = 0; i < t; i++) { // concatenate the next slice of the embedding
                double[] grown = new double[w];
                System.arraycopy(y[i], 0, grown, 0, prev);
                System.arraycopy(x[i], prev, grown, prev, w - prev);
                y[i] = grown;
            }
            prev = w;
            for (int b = 0; b < c.steps().get(s).depth(); b++) {
                String pre = "steps." + s + ".blocks." + b;
                double[][] a = attention(norm(y, pre + ".ln1"), pre + ".attn", c.heads(s));
                add(y, a);
                double[][] m = mlp(norm(y, pre + ".ln2"), pre + ".mlp");
                add(y, m);
            }
        }
        double[][] h = norm(y, "ln_f");
        double[] head = p.get(c.tiedEmbeddings() ? "wte.weight" : "lm_head.weight");
        double[][] logits = new double[t][c.vocabSize()];
        for (int i = 0; i < t; i++) {
            for (int v = 0; v < c.vocabSize(); v++) {
                double s = 0;
                for (int j = 0; j < cw; j++) {
                    s += h[i][j] * head[v * cw + j];
                }
                logits[i][v] = s;
            }
        }
        return logits;
    }

    /** Mean cross-entropy over all positions of all sequences. */
    double loss(int[][] tokens, int[][] targets) {
        double total = 0;
        int n = 0;
        for (int b = 0; b < tokens.length; b++) {
            double[][] l = logits(tokens[b]);
            for (int i = 0; i < l.length; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (double v : l[i]) {
                    max = Math.max(max, v);
                }
                double z = 0;
                for (double v : l[i]) {
                    z += Math.exp(v - max);
                }
                total += max + Math.log(z) - l[i][targets[b][i]];
                n++;
            }
        }
        return total / n;
    }

    private static void add(double[][] y, double[][] r) {
        for (int i = 0; i < y.length; i++) {
            for (int j = 0; j < y[i].length; j++) {
                y[i][j] += r[i][j];
            }
        }
    }

    private double[][] norm(double[][] x, String name) {
        double[] w = p.get(name + ".weight");
        double[] b = p.get(name + ".bias");
        double eps = ModelConfig.NORM_EPS;
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            int n = x[i].length;
            double mean = 0;
            if (c.norm() == ModelConfig.NormKind.LAYER_NORM) {
                for (double v : x[i]) {
                    mean += v / n;
                }
            }
            double var = 0;
            for (double v : x[i]) {
                var += (v - mean) * (v - mean) / n;
            }
            double inv = 1 / Math.sqrt(var + eps);
            out[i] = new double[n];
            for (int j = 0; j < n; j++) {
                out[i][j] = (x[i][j] - mean) * inv * w[j] + (b != null ? b[j] : 0);
            }
        }
        return out;
    }

    private double[][] linear(double[][] x, String name, int outDim) {
        double[] w = p.get(name + ".weight");
        double[] b = p.get(name + ".bias");
        int in = x[0].length;
        double[][] out = new double[x.length][outDim];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < outDim; o++) {
                double s = b != null ? b[o] : 0;
                for (int j = 0; j < in; j++) {
                    s += w[o * in + j] * x[i][j];
                }
                out[i][o] = s;
            }
        }
        return out;
    }

    private double[][] attention(double[][] x, String pre, int heads) {
        int t = x.length;
        int w = x[0].length;
        int hs = c.headSize();
        double[][] qkv = linear(x, pre + ".qkv", 3 * w);
        double[][] q = new double[t][w];
        double[][] k = new double[t][w];
        double[][] v = new double[t][w];
        for (int i = 0; i < t; i++) {
            System.arraycopy(qkv[i], 0, q[i], 0, w);
            System.arraycopy(qkv[i], w, k[i], 0, w);
            System.arraycopy(qkv[i], 2 * w, v[i], 0, w);
            if (c.positions() == ModelConfig.PositionKind.ROTARY) {
                rotate(q[i], i, heads, hs);
                rotate(k[i], i, heads, hs);
            }
        }
        double[][] y = new double[t][w];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                double[] s = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= i; u++) {
                    double d = 0;
                    for (int j = 0; j < hs; j++) {
                        d += q[i][h * hs + j] * k[u][h * hs + j];
                    }
                    s[u] = d / Math.sqrt(hs);
                    max = Math.max(max, s[u]);
                }
                double z = 0;
                for (int u = 0; u <= i; u++) {
                    s[u] = Math.exp(s[u] - max);
                    z += s[u];
                }
                for (int u = 0; u <= i; u++) {
                    for (int j = 0; j < hs; j++) {
                        y[i][h * hs + j] += s[u] / z * v[u][h * hs + j];
                    }
                }
            }
        }
        return linear(y, pre + ".proj", w);
    }

    /** RoFormer rotation, rotate-half layout: pairs (j, j + hs/2) at angle pos * theta^(-2j/hs). */
    private static void rotate(double[] x, int pos, int heads, int hs) {
        int half = hs / 2;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < half; j++) {
                double angle = pos * Math.pow(ModelConfig.ROPE_THETA, -2.0 * j / hs);
                double a = x[h * hs + j];
                double b = x[h * hs + j + half];
                x[h * hs + j] = a * Math.cos(angle) - b * Math.sin(angle);
                x[h * hs + j + half] = b * Math.cos(angle) + a * Math.sin(angle);
            }
        }
    }

    private double[][] mlp(double[][] x, String pre) {
        int w = x[0].length;
        int hidden = c.mlpHidden(w);
        boolean swiglu = c.mlp() == ModelConfig.MlpKind.SWIGLU;
        double[][] h = linear(x, pre + ".fc", swiglu ? 2 * hidden : hidden);
        double[][] act = new double[x.length][hidden];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < hidden; j++) {
                if (swiglu) {
                    double g = h[i][j];
                    act[i][j] = g / (1 + Math.exp(-g)) * h[i][hidden + j];
                } else {
                    double u = h[i][j];
                    act[i][j] = 0.5 * u * (1 + erf(u / Math.sqrt(2)));
                }
            }
        }
        return linear(act, pre + ".proj", w);
    }

    /** erf from erfc's Chebyshev fit (Numerical Recipes, 2nd ed., 6.2): relative error below 1.2e-7, smooth. */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
