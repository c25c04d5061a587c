package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

import java.util.Map;

/**
 * The feed-forward half of a block: GELU (GPT-2: fc (h, w) -> gelu -> proj (w, h)) or SwiGLU (Shazeer 2020, LLaMA:
 * fc (2h, w) holds gate rows then up rows in one matmul -> silu(gate) * up -> proj (w, h)).
 *
 * <p>Dimension legend: B batch, T positions, w block width, h hidden size.
 */
final class Mlp {

    private final Kernels kernels;
    private final Precision precision;
    private final ModelConfig.MlpKind kind;
    private final NDArray fcWeight; // (h, w) or (2h, w)
    private final NDArray fcBias; // (h) or (2h), only with bias
    private final NDArray projWeight; // (w, h)
    private final NDArray projBias; // (w), only with bias

    Mlp(Map<String, NDArray> params, String prefix, ModelConfig config, ModelRuntime runtime) {
        this.kernels = runtime.kernels();
        this.precision = runtime.precision();
        this.kind = config.mlp();
        this.fcWeight = params.get(prefix + ".fc.weight");
        this.projWeight = params.get(prefix + ".proj.weight");
        this.fcBias = config.bias() ? params.get(prefix + ".fc.bias") : null;
        this.projBias = config.bias() ? params.get(prefix + ".proj.bias") : null;
    }

    NDArray forward(NDArray x) {
        NDArray h = linear(x, fcWeight, fcBias); // (B, T, h) or (B, T, 2h)
        if (kind == ModelConfig.MlpKind.SWIGLU) {
            NDList gateUp = h.split(2, 2); // 2 x (B, T, h), DJL split needs a non-negative axis
            h = kernels.silu(gateUp.get(0)).mul(gateUp.get(1)); // (B, T, h)
        } else {
            h = kernels.gelu(h); // (B, T, h)
        }
        return linear(h, projWeight, projBias); // (B, T, w)
    }

    private NDArray linear(NDArray x, NDArray w, NDArray b) {
        return b != null ? kernels.linear(x, w, b, precision) : kernels.linear(x, w, precision);
    }
}
