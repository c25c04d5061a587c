package ai.djl.pytorch.jni;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;

/**
 * stepslm's bridge to run one TorchScript method with autograd on, passing plain tensors. It lives in DJL's package
 * because the only public route, {@code IValueUtils.forward(block, NDList, true)}, interprets array names: a
 * parameter named {@code steps.0.blocks.0.ln1.weight} is sent as a {@code Dict[str, Tensor]} (names with a dot
 * become dict keys, {@code x[]} a list, {@code x()} a tuple), and {@code runMethod} always disables autograd.
 * This mirrors {@code IValueUtils.forward} of DJL 0.36.0 without the name handling.
 */
public final class StepsLmMethodCall {

    /** The same switch IValueUtils reads. */
    private static final boolean CUDA_STREAM = Boolean.getBoolean("ai.djl.pytorch.enable_cuda_stream");

    private StepsLmMethodCall() {
    }

    /** Runs {@code method} on tensors with gradients recorded; the result belongs to args[0]'s manager. */
    public static PtNDArray run(PtSymbolBlock module, String method, PtNDArray... args) {
        IValue[] in = new IValue[args.length];
        long[] handles = new long[args.length];
        try {
            for (int i = 0; i < args.length; i++) {
                in[i] = IValue.from(args[i]);
                handles[i] = in[i].getHandle();
            }
            long result = PyTorchLibrary.LIB.moduleRunMethod(module.getHandle(), method, handles, true, CUDA_STREAM);
            try (IValue out = new IValue(result)) {
                return out.toTensor((PtNDManager) args[0].getManager());
            }
        } finally {
            for (IValue v : in) {
                if (v != null) {
                    v.close();
                }
            }
        }
    }
}
