package io.stepslm.experiment;

import io.stepslm.model.ModelConfig;

/** One training run of the experiment; its run folder is {@code runs/<name>} under the experiment's output. */
public record RunSpec(Pair pair, Kind kind, long seed) {

    /** Which model of the pair, and with which budget. */
    public enum Kind {
        /** The plain residual model, the experiment's token budget. */
        PLAIN("plain"),
        /** Its StepsNet, the same tokens. */
        STEPS("steps"),
        /** The StepsNet again, for the wall-clock time the plain run took (fewer steps). */
        STEPS_TIME("steps-time");

        public final String id;

        Kind(String id) {
            this.id = id;
        }
    }

    public String name() {
        return pair.name() + "-" + kind.id + "-s" + seed;
    }

    public ModelConfig model(int vocabSize, int contextLength) {
        return kind == Kind.PLAIN ? pair.plain(vocabSize, contextLength) : pair.steps(vocabSize, contextLength);
    }
}
