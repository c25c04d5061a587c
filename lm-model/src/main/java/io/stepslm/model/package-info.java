/**
 * The decoder-only Transformer with StepsNet progressive channel grouping on DJL (a plain residual model is the
 * 1-step case): configuration, layers, initialisation, kernels (reference NDArray ops and fused TorchScript ops),
 * KV cache, diagnostics and the checkpoint format. Tensors only: it knows vocabulary sizes, never strings.
 */
package io.stepslm.model;
