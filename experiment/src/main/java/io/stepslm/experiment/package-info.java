/**
 * Experiments that answer whether StepsNet helps: parameter-matched plain/StepsNet pairs trained on the same data,
 * tokens and seeds, scored as {@code stepslm eval} scores, with the paper's diagnostics (shortcut ratio, channel
 * masking, step ablation) and a self-contained HTML report. Each run is an ordinary training run folder.
 */
package io.stepslm.experiment;
