/**
 * The machine a run is on, apart from the model: libtorch's CPU thread count, the launcher's MKL switch, the
 * device a run asks for (GPU counting), and machine facts for benchmarks (cores, CPU model, load, CPU time, memory).
 * Kept out of lm-model, which is tensors only; cli and bench read and set these before they open a model.
 */
package io.stepslm.machine;
