package io.stepslm.model;

import io.stepslm.files.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes the fused-kernel TorchScript archive in Java, without Python. libtorch compiles the TorchScript source in
 * {@code code/__torch__.py} when it loads the zip, so a stateless module needs no serialized graph: only the class
 * source, a pickled instance ({@code data.pkl}), an empty constant table and a format version. The layout is the one
 * {@code torch.jit.save} produces (checked against a module saved by PyTorch 1.13; loaded by libtorch 2.7.1).
 *
 * <p>Every model kernel takes and returns tensors only, so that a call is a list of tensor handles;
 * scalars (eps) travel as 0-d tensors and the causal flag and the precision are part of the method name. The two
 * optimizer kernels take tensor lists and floats and run without autograd. Casts are
 * {@code torch.to(x, dtype)} inside the graph, so they are differentiable and DJL never sees an FP16/BF16 tensor.
 * dtype codes are c10::ScalarType: 5 = Half, 6 = Float, 15 = BFloat16.
 *
 * <p>In the text blocks below, a line that ends in a backslash goes on at the block's left margin: Java joins the
 * two (a text block's line continuation), so the TorchScript keeps a long call on one line, as PyTorch writes it.
 */
public final class KernelArchive {

    /** Top-level folder inside the zip; libtorch takes the archive name from the first entry. */
    static final String NAME = "stepslm_kernels";

    /**
     * Format version read by libtorch's PyTorchStreamReader. 10 is what torch.jit.save wrote for this op set in
     * PyTorch 1.13 and means that no operator upgrader rewrites our calls (gelu, div, full were upgraded below 10).
     */
    static final String FORMAT_VERSION = "10\n";

    private KernelArchive() {
    }

    /** The TorchScript source of the kernels module (class {@code __torch__.Kernels}). */
    static String source() {
        StringBuilder s = new StringBuilder(4096);
        s.append("class Kernels(Module):\n")
                .append("  __parameters__ = []\n")
                .append("  __buffers__ = []\n")
                .append("  training : bool\n")
                .append("  _is_full_backward_hook : Optional[bool]\n");
        method(s, "forward", "x", "x");
        // attention: fused SDPA; reduced precisions compute inside and hand FP32 back (flash attention keeps
        // its softmax statistics in FP32 on CPU and GPU, and its causal masking never makes NaN).
        for (String prec : new String[] {"fp32", "fp16", "bf16"}) {
            for (boolean causal : new boolean[] {true, false}) {
                String name = "attention_" + (causal ? "causal" : "full") + "_" + prec;
                String flag = causal ? "True" : "False";
                String body = prec.equals("fp32")
                        ? "torch.scaled_dot_product_attention(q, k, v, None, 0., " + flag + ")"
                        : "torch.to(torch.scaled_dot_product_attention(" + down("q", prec) + ", " + down("k", prec)
                                + ", " + down("v", prec) + ", None, 0., " + flag + "), 6)";
                method(s, name, "q, k, v", body);
            }
            String lin = prec.equals("fp32") ? "torch.linear(x, w)"
                    : "torch.to(torch.linear(" + down("x", prec) + ", " + down("w", prec) + "), 6)";
            method(s, "linear_" + prec, "x, w", lin);
            // the bias is added in FP32 after the product, as autocast does for the output cast
            method(s, "linear_bias_" + prec, "x, w, b", "torch.add(" + lin + ", b)");
        }
        method(s, "rms_norm", "x, w, eps", "torch.rms_norm(x, [torch.size(x, -1)], w, float(eps))");
        method(s, "layer_norm", "x, w, b, eps", "torch.layer_norm(x, [torch.size(x, -1)], w, b, float(eps))");
        method(s, "layer_norm_nobias", "x, w, eps", "torch.layer_norm(x, [torch.size(x, -1)], w, None, float(eps))");
        method(s, "gelu", "x", "torch.gelu(x)");
        method(s, "silu", "x", "torch.silu(x)");
        method(s, "to_fp32", "x", "torch.to(x, 6)");
        method(s, "to_fp16", "x", "torch.to(x, 5)");
        // BF16 never leaves the archive (DJL aborts on it): round trips let FP32 callers and tests see BF16
        // rounding with gradients flowing straight through
        method(s, "round_fp16", "x", "torch.to(torch.to(x, 5), 6)");
        method(s, "round_bf16", "x", "torch.to(torch.to(x, 15), 6)");
        optimizerMethods(s);
        decodeMethods(s);
        return s.toString();
    }

    /**
     * The optimizer's passes over all parameters in one call each (run without autograd): global-norm clipping as
     * clip_grad_norm_ (scales only when the norm is finite and above the limit) and AdamW as PyTorch's fused CPU/GPU
     * kernel {@code _fused_adamw_}, which reads every tensor once. Every weight gets the same step count.
     */
    private static void optimizerMethods(StringBuilder s) {
        s.append("""
                  def clip_grad_norm(self: __torch__.Kernels,
                    grads: List[Tensor],
                    max_norm: float) -> Tensor:
                    norm = torch.linalg_vector_norm(torch.stack(torch._foreach_norm(grads, 2)), 2)
                    if max_norm > 0.:
                      coef = torch.mul(torch.reciprocal(torch.add(norm, 9.9999999999999995e-07)), max_norm)
                      if bool(torch.logical_and(torch.lt(coef, 1.), torch.isfinite(norm))):
                        torch._foreach_mul_(grads, coef)
                      else:
                        pass
                    else:
                      pass
                    return norm
                  def adamw(self: __torch__.Kernels,
                    params: List[Tensor],
                    grads: List[Tensor],
                    exp_avgs: List[Tensor],
                    exp_avg_sqs: List[Tensor],
                    step: Tensor,
                    lr: float,
                    beta1: float,
                    beta2: float,
                    eps: float,
                    weight_decay: float) -> Tensor:
                    steps = annotate(List[Tensor], [])
                    for _0 in range(torch.len(params)):
                      _1 = torch.append(steps, step)
                    torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, annotate(List[Tensor], []), steps, \
                lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
                    return step
                """);
    }

    /**
     * One whole decoding step of any model config in one call (run without autograd): embedding, every block of
     * every StepsNet step with the in-place write of its keys and values into the cache, the final norm and the
     * head of the last position only. Lists (see {@link FusedDecoding} for the order): {@code glob} = wte, wpe,
     * ln_f.weight, ln_f.bias, head, rotary cos, sin, rotate-half matrix (rotary applies to q and k together as
     * {@code x cos + (x R) sin}: three ops per block, the interpreter's per-op cost being what a decoding step of a
     * small model spends besides its matmuls); {@code blocks} = 12 tensors per block (ln1 w/b, qkv w/b,
     * proj w/b, ln2 w/b, fc w/b, mlp proj w/b), an empty placeholder where the config has none;
     * {@code layout} = [V, hs, rms, swiglu, rotary, norm bias, linear bias, steps, widths.., depths..];
     * {@code step} = [row0, Tk, B, T, tokens (B T).., positions (B).., write columns (B)..]. Row b of the batch is
     * cache row row0 + b; its tokens sit at positions pos_b .. pos_b + T - 1 and see the keys at positions up to
     * their own (a per-row causal mask), so rows of different lengths share one step. Returns (B, V) FP32 logits.
     * {@code decode_one} is the same step for one row and one token ({@code step} = [row, position, token]) on 1-D
     * vectors: no mask and no index tensors (the cache is written through views), and every product is a
     * matrix-vector product on {@code tw}, contiguous transposed copies (in, out) of qkv, proj, fc and mlp proj per
     * block and of the head last ({@code transposed} makes them), which libtorch's oneMKL reads faster than (out, in).
     */
    private static void decodeMethods(StringBuilder s) {
        String eps = String.format(java.util.Locale.ROOT, "%.17g", (double) ModelConfig.NORM_EPS);
        s.append("""
                  def _norm(self: __torch__.Kernels,
                    x: Tensor,
                    w: Tensor,
                    b: Tensor,
                    rms: int,
                    has_bias: int) -> Tensor:
                    if rms == 1:
                      out = torch.rms_norm(x, [torch.size(x, -1)], w, EPS)
                    else:
                      if has_bias == 1:
                        out = torch.layer_norm(x, [torch.size(x, -1)], w, b, EPS)
                      else:
                        out = torch.layer_norm(x, [torch.size(x, -1)], w, None, EPS)
                    return out
                  def _linear(self: __torch__.Kernels,
                    x: Tensor,
                    w: Tensor,
                    b: Tensor,
                    has_bias: int) -> Tensor:
                    if has_bias == 1:
                      out = torch.linear(x, w, b)
                    else:
                      out = torch.linear(x, w)
                    return out
                  def decode(self: __torch__.Kernels,
                    glob: List[Tensor],
                    blocks: List[Tensor],
                    keys: List[Tensor],
                    values: List[Tensor],
                    layout: List[int],
                    step: List[int]) -> Tensor:
                    row0 = step[0]
                    tk = step[1]
                    b = step[2]
                    t = step[3]
                    ids = torch.tensor(step, dtype=4)
                    tokens = torch.reshape(torch.slice(ids, 0, 4, 4 + b * t), [b, t])
                    pos = torch.slice(ids, 0, 4 + b * t, 4 + b * t + b)
                    write = torch.slice(ids, 0, 4 + b * t + b, 4 + b * t + 2 * b)
                    vocab = layout[0]
                    hs = layout[1]
                    rms = layout[2]
                    swiglu = layout[3]
                    rotary = layout[4]
                    norm_bias = layout[5]
                    lin_bias = layout[6]
                    nsteps = layout[7]
                    ar = torch.unsqueeze(torch.arange(t), 0)
                    p = torch.add(torch.unsqueeze(pos, 1), ar)
                    wr = torch.add(torch.unsqueeze(write, 1), ar)
                    x = torch.embedding(glob[0], tokens)
                    if rotary == 1:
                      cos = torch.unsqueeze(torch.embedding(glob[5], p), 1)
                      sin = torch.unsqueeze(torch.embedding(glob[6], p), 1)
                    else:
                      x = torch.add(x, torch.embedding(glob[1], p))
                      cos = glob[5]
                      sin = glob[6]
                    mask = torch.le(torch.reshape(torch.arange(tk), [1, 1, 1, tk]), torch.reshape(p, [b, 1, t, 1]))
                    rows = torch.unsqueeze(torch.arange(row0, row0 + b), 1)
                    y = torch.slice(x, 2, 0, layout[8])
                    blk = 0
                    for i in range(nsteps):
                      wi = layout[8 + i]
                      if i > 0:
                        y = torch.cat([y, torch.slice(x, 2, layout[7 + i], wi)], -1)
                      nh = wi // hs
                      for j in range(layout[8 + nsteps + i]):
                        o = 12 * blk
                        h = self._norm(y, blocks[o], blocks[o + 1], rms, norm_bias)
                        qkv = self._linear(h, blocks[o + 2], blocks[o + 3], lin_bias)
                        qkv = torch.permute(torch.view(qkv, [b, t, 3, nh, hs]), [2, 0, 3, 1, 4])
                        if rotary == 1:
                          qk = torch.slice(qkv, 0, 0, 2)
                          qk = torch.addcmul(torch.mul(qk, cos), torch.matmul(qk, glob[7]), sin)
                          q = torch.select(qk, 0, 0)
                          k = torch.select(qk, 0, 1)
                        else:
                          q = torch.select(qkv, 0, 0)
                          k = torch.select(qkv, 0, 1)
                        v = torch.select(qkv, 0, 2)
                        kc = keys[blk]
                        vc = values[blk]
                        _0 = torch.index_put_(kc, annotate(List[Optional[Tensor]], [rows, None, wr]), \
                torch.transpose(k, 1, 2))
                        _1 = torch.index_put_(vc, annotate(List[Optional[Tensor]], [rows, None, wr]), \
                torch.transpose(v, 1, 2))
                        kk = torch.slice(torch.slice(kc, 0, row0, row0 + b), 2, 0, tk)
                        vv = torch.slice(torch.slice(vc, 0, row0, row0 + b), 2, 0, tk)
                        att = torch.scaled_dot_product_attention(q, kk, vv, mask, 0., False)
                        att = torch.reshape(torch.transpose(att, 1, 2), [b, t, wi])
                        y = torch.add(y, self._linear(att, blocks[o + 4], blocks[o + 5], lin_bias))
                        h = self._norm(y, blocks[o + 6], blocks[o + 7], rms, norm_bias)
                        h = self._linear(h, blocks[o + 8], blocks[o + 9], lin_bias)
                        if swiglu == 1:
                          gu = torch.chunk(h, 2, -1)
                          h = torch.mul(torch.silu(gu[0]), gu[1])
                        else:
                          h = torch.gelu(h)
                        y = torch.add(y, self._linear(h, blocks[o + 10], blocks[o + 11], lin_bias))
                        blk = blk + 1
                    last = self._norm(torch.select(y, 1, t - 1), glob[2], glob[3], rms, norm_bias)
                    logits = torch.linear(last, glob[4])
                    return torch.contiguous(torch.slice(logits, 1, 0, vocab))
                  def transposed(self: __torch__.Kernels,
                    ws: List[Tensor]) -> List[Tensor]:
                    out = annotate(List[Tensor], [])
                    for w in ws:
                      _0 = torch.append(out, torch.contiguous(torch.t(w)))
                    return out
                  def _mv(self: __torch__.Kernels,
                    x: Tensor,
                    wt: Tensor,
                    b: Tensor,
                    has_bias: int) -> Tensor:
                    if has_bias == 1:
                      out = torch.addmv(b, torch.t(wt), x)
                    else:
                      out = torch.mv(torch.t(wt), x)
                    return out
                  def _mv_res(self: __torch__.Kernels,
                    y: Tensor,
                    x: Tensor,
                    wt: Tensor,
                    b: Tensor,
                    has_bias: int) -> Tensor:
                    if has_bias == 1:
                      out = torch.addmv(torch.add(y, b), torch.t(wt), x)
                    else:
                      out = torch.addmv(y, torch.t(wt), x)
                    return out
                  def decode_one(self: __torch__.Kernels,
                    glob: List[Tensor],
                    blocks: List[Tensor],
                    tw: List[Tensor],
                    keys: List[Tensor],
                    values: List[Tensor],
                    layout: List[int],
                    step: List[int]) -> Tensor:
                    row = step[0]
                    pos = step[1]
                    vocab = layout[0]
                    hs = layout[1]
                    rms = layout[2]
                    swiglu = layout[3]
                    rotary = layout[4]
                    norm_bias = layout[5]
                    lin_bias = layout[6]
                    nsteps = layout[7]
                    x = torch.select(glob[0], 0, step[2])
                    if rotary == 1:
                      cos = torch.select(glob[5], 0, pos)
                      sin = torch.select(glob[6], 0, pos)
                    else:
                      x = torch.add(x, torch.select(glob[1], 0, pos))
                      cos = glob[5]
                      sin = glob[6]
                    y = torch.slice(x, 0, 0, layout[8])
                    blk = 0
                    for i in range(nsteps):
                      wi = layout[8 + i]
                      if i > 0:
                        y = torch.cat([y, torch.slice(x, 0, layout[7 + i], wi)], 0)
                      nh = wi // hs
                      for j in range(layout[8 + nsteps + i]):
                        o = 12 * blk
                        h = self._norm(y, blocks[o], blocks[o + 1], rms, norm_bias)
                        qkv = torch.view(self._mv(h, tw[4 * blk], blocks[o + 3], lin_bias), [3, nh, hs])
                        if rotary == 1:
                          qk = torch.slice(qkv, 0, 0, 2)
                          qk = torch.addcmul(torch.mul(qk, cos), torch.matmul(qk, glob[7]), sin)
                          q = torch.select(qk, 0, 0)
                          k = torch.select(qk, 0, 1)
                        else:
                          q = torch.select(qkv, 0, 0)
                          k = torch.select(qkv, 0, 1)
                        kc = torch.slice(keys[blk], 0, row, row + 1)
                        vc = torch.slice(values[blk], 0, row, row + 1)
                        _0 = torch.copy_(torch.select(torch.select(kc, 0, 0), 1, pos), k)
                        _1 = torch.copy_(torch.select(torch.select(vc, 0, 0), 1, pos), torch.select(qkv, 0, 2))
                        att = torch.scaled_dot_product_attention(torch.reshape(q, [1, nh, 1, hs]),
                            torch.slice(kc, 2, 0, pos + 1), torch.slice(vc, 2, 0, pos + 1), None, 0., False)
                        y = self._mv_res(y, torch.reshape(att, [wi]), tw[4 * blk + 1], blocks[o + 5], lin_bias)
                        h = self._norm(y, blocks[o + 6], blocks[o + 7], rms, norm_bias)
                        h = self._mv(h, tw[4 * blk + 2], blocks[o + 9], lin_bias)
                        if swiglu == 1:
                          gu = torch.chunk(h, 2, -1)
                          h = torch.mul(torch.silu(gu[0]), gu[1])
                        else:
                          h = torch.gelu(h)
                        y = self._mv_res(y, h, tw[4 * blk + 3], blocks[o + 11], lin_bias)
                        blk = blk + 1
                    last = self._norm(y, glob[2], glob[3], rms, norm_bias)
                    return torch.slice(torch.mv(torch.t(tw[4 * blk]), last), 0, 0, vocab)
                """.replace("EPS", eps));
    }

    private static String down(String var, String prec) {
        return "torch.to(" + var + ", " + (prec.equals("fp16") ? 5 : 15) + ")";
    }

    private static void method(StringBuilder s, String name, String args, String body) {
        s.append("  def ").append(name).append("(self: __torch__.Kernels");
        for (String a : args.split(",")) {
            s.append(",\n    ").append(a.trim()).append(": Tensor");
        }
        s.append(") -> Tensor:\n    return ").append(body).append('\n');
    }

    /** The archive as bytes (a zip with stored entries, as torch.jit.save writes small records). */
    public static byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, NAME + "/data.pkl", dataPickle());
            stored(zip, NAME + "/code/__torch__.py", source().getBytes(StandardCharsets.UTF_8));
            // pickle protocol 2: PROTO 2, EMPTY_TUPLE, STOP; the module has no tensor constants
            stored(zip, NAME + "/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, NAME + "/.data/version", FORMAT_VERSION.getBytes(StandardCharsets.US_ASCII));
            stored(zip, NAME + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            stored(zip, NAME + "/.data/serialization_id", "stepslm-kernels-1".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the kernel archive in memory", e);
        }
        return out.toByteArray();
    }

    /** Writes the archive to {@code target} through a temporary file and an atomic rename. */
    public static void write(Path target) throws IOException {
        AtomicFiles.write(target, bytes());
    }

    /**
     * An instance of {@code __torch__.Kernels} in pickle protocol 2, as torch.jit.save writes it:
     * GLOBAL '__torch__ Kernels', EMPTY_TUPLE, NEWOBJ, then BUILD with {training: True,
     * _is_full_backward_hook: None}.
     */
    static byte[] dataPickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream(96);
        p.write(0x80);
        p.write(2); // PROTO 2
        p.writeBytes("c__torch__\nKernels\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        unicode(p, "training");
        p.write(0x88); // NEWTRUE
        unicode(p, "_is_full_backward_hook");
        p.write('N'); // NONE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void unicode(ByteArrayOutputStream p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.write('X'); // BINUNICODE, 4-byte little-endian length
        p.write(b.length);
        p.write(b.length >>> 8);
        p.write(b.length >>> 16);
        p.write(b.length >>> 24);
        p.writeBytes(b);
    }

    private static final java.time.LocalDateTime FIXED_TIME = java.time.LocalDateTime.of(1980, 1, 2, 0, 0);

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        // A fixed local time: setTime(millis) converts through the JVM's time zone, and 1980-01-01 00:00 itself is
        // the JDK's "before 1980" marker, which adds an extended timestamp in UTC seconds; both gave other bytes in
        // other time zones. The day after the zip epoch is stored as it is, without a time zone.
        e.setTimeLocal(FIXED_TIME);
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
