package io.stepslm.model;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/** A pre-norm (LayerNorm, with or without bias, or RMSNorm) over the last axis, computed by the kernels in FP32. */
final class Norm {

    private final Kernels kernels;
    private final ModelConfig.NormKind kind;
    private final NDArray weight; // (C)
    private final NDArray bias; // (C), only for LayerNorm with bias

    Norm(Map<String, NDArray> params, String prefix, ModelConfig config, Kernels kernels) {
        this.kernels = kernels;
        this.kind = config.norm();
        this.weight = params.get(prefix + ".weight");
        this.bias = hasBias(config) ? params.get(prefix + ".bias") : null;
    }

    static boolean hasBias(ModelConfig config) {
        return config.bias() && config.norm() == ModelConfig.NormKind.LAYER_NORM;
    }

    NDArray forward(NDArray x) {
        return switch (kind) {
            case RMS_NORM -> kernels.rmsNorm(x, weight, ModelConfig.NORM_EPS);
            case LAYER_NORM -> bias != null
                    ? kernels.layerNorm(x, weight, bias, ModelConfig.NORM_EPS)
                    : kernels.layerNorm(x, weight, ModelConfig.NORM_EPS);
        };
    }
}
