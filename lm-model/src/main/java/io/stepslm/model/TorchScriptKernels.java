package io.stepslm.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.StepsLmMethodCall;
import ai.djl.pytorch.jni.JniUtils;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Fused libtorch kernels from the TorchScript archive that {@link KernelArchive} writes: SDPA attention, rms/layer
 * norm, GELU, SiLU and differentiable casts, each one native call with a native backward; and the optimizer's
 * global-norm clipping and AdamW, one native call each for all parameters. Measured 2-3x faster than
 * manual attention on CPU (docs/design.md, "TorchScript kernels"). Methods run through
 * {@link StepsLmMethodCall} with autograd on, so they are recorded whenever a {@code GradientCollector} is open.
 * Close it after the model that uses it.
 *
 * <p>Dimension legend: B batch, nh heads, Tq query positions, Tk key positions, hs head size, C channels.
 */
public final class TorchScriptKernels implements Kernels, AutoCloseable {

    private final NDManager manager;
    private final PtSymbolBlock module;
    /** eps values as 0-d CPU tensors (methods take tensors only), created once per distinct value. */
    private final Map<Float, NDArray> epsilons = new ConcurrentHashMap<>();

    private TorchScriptKernels(NDManager manager, PtSymbolBlock module) {
        this.manager = manager;
        this.module = module;
    }

    /**
     * Builds the archive in memory, loads it into libtorch on {@code parent}'s device (a PyTorch-engine manager) and
     * makes one smoke call through the native bridge. Throws IllegalStateException naming the cause when the engine
     * is not PyTorch, libtorch refuses the archive, or the bridge does not link, so that {@link KernelChoice} falls
     * back to the reference kernels at load instead of failing at the first training step.
     */
    public static TorchScriptKernels load(NDManager parent) {
        return load(parent, TorchScriptKernels::smokeCall);
    }

    /** As {@link #load(NDManager)} with {@code smoke} as the first call (tests simulate a broken bridge). */
    static TorchScriptKernels load(NDManager parent, Consumer<TorchScriptKernels> smoke) {
        if (!(parent instanceof PtNDManager)) {
            throw new IllegalStateException("fused kernels need DJL's PyTorch engine, got "
                    + parent.getEngine().getEngineName() + ": put ai.djl.pytorch:pytorch-engine on the classpath or "
                    + "choose the reference kernels");
        }
        NDManager manager = parent.newSubManager();
        TorchScriptKernels kernels;
        try {
            PtSymbolBlock module = JniUtils.loadModule(
                    (PtNDManager) manager, new ByteArrayInputStream(KernelArchive.bytes()), true, false);
            kernels = new TorchScriptKernels(manager, module);
        } catch (IOException | RuntimeException | LinkageError e) {
            manager.close();
            throw new IllegalStateException("libtorch could not load the fused kernel archive (" + e
                    + "): choose the reference kernels", e);
        }
        try {
            smoke.accept(kernels);
        } catch (RuntimeException | LinkageError e) {
            // a LinkageError (UnsatisfiedLinkError, NoSuchMethodError) is what a DJL JNI whose native signatures
            // differ from the ones StepsLmMethodCall was written against throws at the first call
            kernels.close();
            throw new IllegalStateException("the fused kernels loaded but their first call through DJL's native "
                    + "bridge failed (" + e + "; StepsLmMethodCall is written for DJL 0.36.0): choose the reference "
                    + "kernels, or run with DJL 0.36.0", e);
        }
        return kernels;
    }

    /**
     * One tensor method and one list-and-float method (the two routes of {@link StepsLmMethodCall}), checked
     * against known answers: the identity {@code forward} and the norm of (3, 4) with clipping off.
     */
    private static void smokeCall(TorchScriptKernels kernels) {
        try (NDManager scratch = kernels.manager.newSubManager()) {
            NDArray x = scratch.create(new float[] {3f, 4f});
            float[] same = kernels.call("forward", x).toFloatArray();
            double norm = kernels.clipGradNorm(List.of(x), 0.0);
            if (same.length != 2 || same[1] != 4f || Math.abs(norm - 5.0) > 1e-5) {
                throw new IllegalStateException("smoke call returned " + java.util.Arrays.toString(same)
                        + " and norm " + norm + " instead of [3.0, 4.0] and 5.0");
            }
        }
    }

    @Override
    public String name() {
        return "fused";
    }

    private NDArray call(String method, NDArray... args) {
        PtNDArray[] in = new PtNDArray[args.length];
        for (int i = 0; i < args.length; i++) {
            in[i] = (PtNDArray) args[i];
        }
        return StepsLmMethodCall.run(module, method, in); // on the manager of the first input
    }

    private NDArray eps(float eps) {
        // on the CPU whatever the device: the archive reads it with float(eps), which on a GPU tensor would wait
        // for that GPU at every norm (a host sync per layer), and a data-parallel replica on another GPU uses it too
        return epsilons.computeIfAbsent(eps, e -> manager.create(e.floatValue()).toDevice(Device.cpu(), false));
    }

    @Override
    public NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal) {
        return attention(q, k, v, causal, Precision.FP32);
    }

    @Override
    public NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal, Precision precision) {
        if (causal && q.getShape().get(2) != k.getShape().get(2)) {
            throw new IllegalArgumentException("causal attention needs as many queries as keys, got Tq="
                    + q.getShape().get(2) + " and Tk=" + k.getShape().get(2)
                    + ": use causal=false to decode against a KV cache");
        }
        // (B, nh, Tq, hs) x (B, nh, Tk, hs) x (B, nh, Tk, hs) -> (B, nh, Tq, hs)
        return call("attention_" + (causal ? "causal" : "full") + "_" + precision.id(), q, k, v);
    }

    @Override
    public NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        return call("rms_norm", x, weight, eps(eps)); // (..., C)
    }

    @Override
    public NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
        return call("layer_norm", x, weight, bias, eps(eps)); // (..., C)
    }

    @Override
    public NDArray layerNorm(NDArray x, NDArray weight, float eps) {
        return call("layer_norm_nobias", x, weight, eps(eps)); // (..., C)
    }

    @Override
    public NDArray gelu(NDArray x) {
        return call("gelu", x);
    }

    @Override
    public NDArray silu(NDArray x) {
        return call("silu", x);
    }

    @Override
    public NDArray cast(NDArray x, DataType type) {
        switch (type) {
            case FLOAT32:
                return call("to_fp32", x);
            case FLOAT16:
                return call("to_fp16", x);
            case BFLOAT16:
                throw new IllegalArgumentException("DJL cannot hold a BF16 tensor (its JNI aborts the JVM), so "
                        + "cast(x, BFLOAT16) is refused: compute BF16 through linear(..., Precision.BF16) and "
                        + "attention(..., Precision.BF16), which cast inside the kernel archive and return FP32");
            default:
                throw new IllegalArgumentException("cast supports FLOAT32, FLOAT16 and BFLOAT16, got " + type);
        }
    }

    /** x rounded to {@code precision} and back to FP32 inside libtorch, gradient passing straight through. */
    public NDArray roundTrip(NDArray x, Precision precision) {
        return precision == Precision.FP32 ? x : call("round_" + precision.id(), x);
    }

    @Override
    public NDArray linear(NDArray x, NDArray weight, Precision precision) {
        return call("linear_" + precision.id(), x, weight); // (..., Cout)
    }

    @Override
    public NDArray linear(NDArray x, NDArray weight, NDArray bias, Precision precision) {
        return call("linear_bias_" + precision.id(), x, weight, bias); // (..., Cout)
    }

    @Override
    public double clipGradNorm(List<NDArray> grads, double maxNorm) {
        IValue list = IValue.listFrom(tensors(grads));
        IValue max = IValue.from(maxNorm);
        try (IValue out = StepsLmMethodCall.call(module, "clip_grad_norm", false, list, max);
             NDArray norm = out.toTensor((PtNDManager) grads.get(0).getManager())) {
            return norm.getFloat(); // () FP32, the one readback of the step
        } finally {
            StepsLmMethodCall.close(list, max);
        }
    }

    @Override
    public void adamw(List<NDArray> weights, List<NDArray> grads, List<NDArray> m, List<NDArray> v, long step,
                      double lr, double beta1, double beta2, double eps, double weightDecay) {
        if (weights.isEmpty()) {
            return;
        }
        try (NDManager scratch = weights.get(0).getManager().newSubManager()) {
            // the fused kernel reads t from a float tensor per weight; one () tensor serves them all
            NDArray t = scratch.create((float) step).toDevice(weights.get(0).getDevice(), false);
            IValue[] in = {IValue.listFrom(tensors(weights)), IValue.listFrom(tensors(grads)),
                IValue.listFrom(tensors(m)), IValue.listFrom(tensors(v)), IValue.from((PtNDArray) t),
                IValue.from(lr), IValue.from(beta1), IValue.from(beta2), IValue.from(eps), IValue.from(weightDecay)};
            try (IValue out = StepsLmMethodCall.call(module, "adamw", false, in)) {
                // nothing to read: the weights and moments were updated in place
            } finally {
                StepsLmMethodCall.close(in);
            }
        }
    }

    /**
     * Runs one archive method on TorchScript values under a no-grad guard (the fused decoding step); the caller
     * closes the arguments and the result.
     */
    IValue callNoGrad(String method, IValue... args) {
        return StepsLmMethodCall.call(module, method, false, args);
    }

    private static PtNDArray[] tensors(List<NDArray> arrays) {
        PtNDArray[] out = new PtNDArray[arrays.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (PtNDArray) arrays.get(i);
        }
        return out;
    }

    @Override
    public void close() {
        module.close();
        manager.close();
    }
}
