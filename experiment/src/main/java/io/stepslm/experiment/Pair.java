package io.stepslm.experiment;

import io.stepslm.model.Diagnostics;
import io.stepslm.model.ModelConfig;
import java.util.Locale;

/**
 * One size of the comparison: a plain GPT-2 style model of {@code depth} blocks at {@code width} with
 * {@code heads} heads (no bias, tied embeddings, learned positions, dropout 0: nanoGPT's CPU recipe), and its
 * StepsNet by the paper's 3-step recipe ({@link ModelConfig#withStepsRecipe()}).
 *
 * @param name short label, also part of the run folder names
 */
public record Pair(String name, int width, int heads, int depth) {

    /** Largest relative difference of total parameters (embeddings counted, as the paper) within a pair. */
    public static final double MAX_MISMATCH = 0.02;

    public Pair {
        if (name == null || !name.matches("[a-z0-9][a-z0-9-]*")) {
            throw new IllegalArgumentException("pair name '" + name + "' must be lower-case letters, digits and '-' "
                    + "(it names run folders), e.g. small");
        }
        if (width <= 0 || heads <= 0 || depth < 2 || width % heads != 0) {
            throw new IllegalArgumentException("pair " + name + ": width " + width + ", heads " + heads + ", depth "
                    + depth + " must be positive, heads must divide width and depth be at least 2 (the recipe "
                    + "halves it)");
        }
        try {
            ModelConfig.gpt(1, 1, depth, heads, width, 0.0, false).withStepsRecipe();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("pair " + name + ": " + e.getMessage(), e);
        }
    }

    /** Parses {@code NAME:WIDTH:DEPTH:HEADS}, e.g. {@code small:128:4:4}. */
    public static Pair parse(String text) {
        String[] p = text.trim().toLowerCase(Locale.ROOT).split(":");
        if (p.length != 4) {
            throw new IllegalArgumentException("--pair '" + text + "' must be NAME:WIDTH:DEPTH:HEADS, e.g. "
                    + "small:128:4:4");
        }
        try {
            return new Pair(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[3]), Integer.parseInt(p[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--pair '" + text + "': WIDTH, DEPTH and HEADS must be whole numbers, "
                    + "e.g. small:128:4:4", e);
        }
    }

    public ModelConfig plain(int vocabSize, int contextLength) {
        return ModelConfig.gpt(vocabSize, contextLength, depth, heads, width, 0.0, false);
    }

    public ModelConfig steps(int vocabSize, int contextLength) {
        return plain(vocabSize, contextLength).withStepsRecipe();
    }

    /** (StepsNet parameters / plain parameters) - 1, embeddings counted. */
    public double mismatch(int vocabSize, int contextLength) {
        double p = Diagnostics.parameterCount(plain(vocabSize, contextLength), true);
        double s = Diagnostics.parameterCount(steps(vocabSize, contextLength), true);
        return s / p - 1;
    }

    /** Refuses a pair whose two models differ by more than {@link #MAX_MISMATCH} in parameters. */
    public void checkMatched(int vocabSize, int contextLength) {
        double m = mismatch(vocabSize, contextLength);
        if (Math.abs(m) > MAX_MISMATCH) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "pair %s (width %d, depth %d, heads %d): the "
                    + "StepsNet has %+.2f %% parameters against the plain model at vocabulary %d, more than %.0f %%: "
                    + "change the width or head size (the recipe rounds step widths to the head size) or the "
                    + "vocabulary size", name, width, depth, heads, 100 * m, vocabSize, 100 * MAX_MISMATCH));
        }
    }

    @Override
    public String toString() {
        return name + ":" + width + ":" + depth + ":" + heads;
    }
}
