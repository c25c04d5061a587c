package io.stepslm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Which piece a GPU run misses, and what it prints, on facts made up here: every case runs on a CPU-only machine. */
class GpuFactsTest {

    private static final List<NvidiaSmi.Gpu> H100 = List.of(new NvidiaSmi.Gpu(0, "NVIDIA H100 80GB HBM3", 81559,
            "570.86.15"), new NvidiaSmi.Gpu(1, "NVIDIA H100 80GB HBM3", 81559, "570.86.15"));
    private static final String CUDA_DIR = "/root/.djl.ai/pytorch/2.7.1-cu128-linux-x86_64";
    private static final String CPU_DIR = "/root/.djl.ai/pytorch/2.7.1-20250812-cpu-linux-x86_64";

    @Test
    void noDriverIsNamedFirst() {
        GpuFacts f = new GpuFacts(List.of(), false, CPU_DIR, "2.7.1", "cpu", false, false, 0, "");
        String p = f.problem(0);
        assertTrue(p.startsWith("no NVIDIA driver") && p.contains("use device cpu"), p);
    }

    @Test
    void aCpuLibtorchUnderADriverSaysHowToGetTheCudaOne() {
        GpuFacts f = new GpuFacts(H100, true, CPU_DIR, "2.7.1", "cpu", false, false, 0, "");
        String p = f.problem(0);
        assertTrue(p.contains("is a CPU build") && p.contains("STEPSLM_LIBTORCH=cu128") && p.contains(CPU_DIR), p);
    }

    @Test
    void aCudaLibtorchWithTheCpuJniNamesTheFlavor() {
        GpuFacts f = new GpuFacts(H100, true, "/opt/torch/lib", "2.7.1", "cpu", false, true, 0, "");
        String p = f.problem(0);
        assertTrue(p.contains("CUDA build but DJL loaded its cpu JNI") && p.contains("PYTORCH_FLAVOR=cu128"), p);
    }

    @Test
    void aMissingCudaRuntimeAndAMissingIndexAreNamed() {
        GpuFacts noRuntime = new GpuFacts(H100, true, CUDA_DIR, "2.7.1", "cu128", true, true, 0, "");
        String p = noRuntime.problem(0);
        assertTrue(p.contains("driver lists 2 GPU(s)") && p.contains("libcudart"), p);
        GpuFacts ok = new GpuFacts(H100, true, CUDA_DIR, "2.7.1", "cu128", true, true, 2, "12.8");
        assertNull(ok.problem(1));
        assertTrue(ok.problem(2).startsWith("GPU 2 does not exist: libtorch sees 2 GPU(s), numbered 0 to 1"));
    }

    @Test
    void theReportNamesDeviceMemoryLibtorchCudaPrecisionAndKernels() {
        GpuFacts ok = new GpuFacts(H100, true, CUDA_DIR, "2.7.1", "cu128", true, true, 2, "12.8");
        List<String> lines = ok.report(List.of(0, 1), "bf16", "fused");
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("GPU 0: NVIDIA H100 80GB HBM3, 81,559 MiB, driver 570.86.15"), lines.get(0));
        assertEquals("libtorch 2.7.1 cu128 at " + CUDA_DIR + "; CUDA runtime 12.8; precision bf16, kernels fused",
                lines.get(2));
    }

    @Test
    void flavorIsReadFromDjlsCacheFolder() {
        assertEquals("cu128", GpuFacts.flavorOfFolder(CUDA_DIR));
        assertEquals("cpu", GpuFacts.flavorOfFolder(CPU_DIR));
        assertEquals("unknown", GpuFacts.flavorOfFolder("/opt/torch/lib"));
    }

    @Test
    void nvidiaSmiLinesParse() {
        List<NvidiaSmi.Gpu> gpus = NvidiaSmi.parse("0, NVIDIA A100-SXM4-80GB, 81920, 550.54.15\n"
                + "1, Tesla T4, 15360, 550.54.15\nNo devices were found\n");
        assertEquals(List.of(new NvidiaSmi.Gpu(0, "NVIDIA A100-SXM4-80GB", 81920, "550.54.15"),
                new NvidiaSmi.Gpu(1, "Tesla T4", 15360, "550.54.15")), gpus);
        assertEquals(List.of(), NvidiaSmi.parse("NVIDIA-SMI has failed because it couldn't communicate with the "
                + "NVIDIA driver."));
    }

    @Test
    void onThisMachineAGpuIsRefusedWithTheMissingPiece() {
        GpuFacts here = GpuFacts.probe();
        if (Engine.getEngine("PyTorch").getGpuCount() == 0) {
            assertTrue(here.problem(0) != null, "no GPU here, yet no problem found: " + here);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DeviceSetting("gpu").resolve());
            assertTrue(e.getMessage().startsWith("device gpu: ") && e.getMessage().contains("use device cpu"),
                    e.getMessage());
        } else {
            assertNull(here.problem(0));
        }
    }
}
