package io.stepslm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import io.stepslm.model.Precision;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code stepslm bench gpu}: its refusal on a CPU-only machine, and its whole path run on the CPU. */
class GpuBenchCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = new CommandLine(new GpuBenchCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void onACpuOnlyMachineItSaysNoGpuIsUsableAndExitsNonZero() {
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0,
                "libtorch sees a GPU here: the CPU-only refusal is not this machine's case");
        assertEquals(1, run());
        assertTrue(err.toString().startsWith("stepslm bench gpu: no GPU is usable: "), err.toString());
        assertTrue(err.toString().contains("use device cpu"), err.toString());
        assertEquals("", out.toString(), "nothing may run before the refusal");
    }

    @Test
    void theWholePathRunsOnTheCpuAndPasses() {
        int rc = run("--device", "cpu", "--model", "char-tiny", "--vocab", "65", "--batch", "2", "--steps", "2",
                "--warmup", "1", "--precisions", "fp32,bf16", "--gen-tokens", "8", "--gen-precision", "fp32");
        String o = out.toString();
        assertEquals(0, rc, o + err);
        assertTrue(o.contains("\nfp32 ") && o.contains("\nbf16 "), o);
        assertTrue(o.contains("generation (fp32, KV cache, greedy, batch 1): 8 tokens"), o);
        assertTrue(o.contains("42k") && o.contains("335k"), "the PyTorch figures beside ours: " + o);
        assertTrue(o.endsWith("stepslm bench gpu: all precisions passed\n") || o.contains("all precisions passed"), o);
    }

    @Test
    void nonFiniteLossesAndAllSkippedStepsFail() {
        assertNull(GpuBenchCommand.verdict(new GpuBenchCommand.Row(Precision.FP16, 1000, 10.8, 10.7, 1, 0), 20));
        assertTrue(GpuBenchCommand.verdict(new GpuBenchCommand.Row(Precision.FP16, 1000, 10.8, Double.NaN, 0, 0), 20)
                .startsWith("non-finite loss"));
        assertTrue(GpuBenchCommand.verdict(new GpuBenchCommand.Row(Precision.FP16, 1000, 10.8, 10.8, 20, 0), 20)
                .contains("never finite"));
    }

    @Test
    void badOptionsAreRefusedInOneLine() {
        assertEquals(1, run("--device", "cpu", "--peak-tflops", "67"));
        assertTrue(err.toString().contains("--peak-tflops [67.0] needs two positive numbers"), err.toString());
    }

    @Test
    void devicePeaksAreKnownByName() {
        assertArrayEquals(new double[] {67, 989}, GpuBenchCommand.peakOf("NVIDIA H100 80GB HBM3"));
        assertArrayEquals(new double[] {51, 756}, GpuBenchCommand.peakOf("NVIDIA H100 PCIe"));
        assertArrayEquals(new double[] {19.5, 312}, GpuBenchCommand.peakOf("NVIDIA A100-SXM4-80GB"));
        assertArrayEquals(new double[] {30.3, 121}, GpuBenchCommand.peakOf("NVIDIA L4"));
        assertArrayEquals(new double[] {0, 0}, GpuBenchCommand.peakOf("Tesla T4"));
    }

    /** The smoke test itself, short: on a GPU host with mvn -B -ntp verify -Dstepslm.libtorch=cu128 (docs/gpu.md). */
    @Tag("gpu")
    @Test
    void gpt2SmallTrainsInEveryPrecisionOnTheGpu() {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        if (Boolean.getBoolean("stepslm.requireGpu")) {
            assertTrue(gpus > 0, "the GPU test profile is on but libtorch sees no GPU: check nvidia-smi, docs/gpu.md");
        }
        assumeTrue(gpus > 0, "no CUDA GPU visible to libtorch (CPU build or no device): GPU smoke test not run");
        int rc = run("--steps", "3", "--warmup", "1", "--batch", "4", "--gen-tokens", "32");
        assertEquals(0, rc, out.toString() + err);
    }
}
