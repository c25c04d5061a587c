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
 *
 * <p>It calls {@code PyTorchLibrary.moduleRunMethod}, a package-private native method of DJL's JNI. If another DJL
 * version changes that signature, the first call throws a {@link LinkageError} ({@code UnsatisfiedLinkError});
 * {@code TorchScriptKernels.load} makes a smoke call through both methods here, so that the error surfaces when the
 * kernels load and the run falls back to the reference kernels. Keep this class to these two calls.
 */
public final class StepsLmMethodCall {

    /** The same switch IValueUtils reads. */
    private static final boolean CUDA_STREAM = Boolean.getBoolean("ai.djl.pytorch.enable_cuda_stream");

    private StepsLmMethodCall() {
    }

    /** Runs {@code method} on tensors with gradients recorded; the result belongs to args[0]'s manager. */
    public static PtNDArray run(PtSymbolBlock module, String method, PtNDArray... args) {
        IValue[] in = new IValue[args.length];
        try {
            for (int i = 0; i < args.length; i++) {
                in[i] = IValue.from(args[i]);
            }
            try (IValue out = call(module, method, true, in)) {
                return out.toTensor((PtNDManager) args[0].getManager());
            }
        } finally {
            close(in);
        }
    }

    /**
     * Runs {@code method} on any TorchScript values (tensor lists, floats), with autograd recording when
     * {@code grad} is set and under a no-grad guard otherwise (as in-place updates of parameters need). The caller
     * closes the arguments and the result.
     */
    public static IValue call(PtSymbolBlock module, String method, boolean grad, IValue... args) {
        long[] handles = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            handles[i] = args[i].getHandle();
        }
        return new IValue(PyTorchLibrary.LIB.moduleRunMethod(module.getHandle(), method, handles, grad, CUDA_STREAM));
    }

    /** Closes every non-null value. */
    public static void close(IValue... values) {
        for (IValue v : values) {
            if (v != null) {
                v.close();
            }
        }
    }
}
