package io.stepslm.machine;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a GPU run depends on, each piece from its own source: the NVIDIA driver (nvidia-smi, /proc), the libtorch DJL
 * loaded (path, version, flavor, whether it was built with CUDA) and the GPUs DJL counts (through the CUDA runtime
 * library, libcudart, which DJL loads from the system library path). {@link #problem(int)} names the first missing
 * piece and its fix; {@link #report} is what every GPU run prints at start. Both are pure over the fields, so the
 * no-GPU, CPU-build and wrong-flavor cases are tested on a CPU-only machine.
 *
 * @param driverGpus      the GPUs the driver lists (nvidia-smi), empty without one
 * @param driverPresent   an NVIDIA kernel driver is loaded (nvidia-smi answered or /proc/driver/nvidia exists)
 * @param libtorchPath    the folder DJL loaded libtorch from
 * @param libtorchVersion its version as DJL reports it
 * @param flavor          the JNI flavor (cpu, cu128): PYTORCH_FLAVOR, else read from DJL's cache folder name
 * @param libtorchCuda    libtorch was built with CUDA (DJL's CUDA capability)
 * @param folderHasCuda   the libtorch folder holds libtorch_cuda.so (a CUDA build, whatever JNI was loaded)
 * @param cudaGpus        GPUs DJL counts (CudaUtils: 0 when libcudart is not found)
 * @param cudaRuntime     the CUDA runtime's version ("12.8"), "" when not loaded
 */
public record GpuFacts(List<NvidiaSmi.Gpu> driverGpus, boolean driverPresent, String libtorchPath,
                       String libtorchVersion, String flavor, boolean libtorchCuda, boolean folderHasCuda,
                       int cudaGpus, String cudaRuntime) {

    private static final Pattern CACHE_FOLDER = Pattern.compile("^\\d+\\.\\d+\\.\\d+(?:-\\d+)?-([a-z0-9]+)-");

    public GpuFacts {
        driverGpus = List.copyOf(driverGpus);
    }

    /** Starts DJL's PyTorch engine (if not yet) and gathers the facts. */
    public static GpuFacts probe() {
        Engine engine = Engine.getEngine("PyTorch");
        String path = LibUtils.getLibtorchPath();
        List<NvidiaSmi.Gpu> gpus = NvidiaSmi.query();
        boolean cuda = engine.hasCapability(StandardCapabilities.CUDA);
        int count = CudaUtils.getGpuCount();
        String runtime = "";
        if (count > 0) {
            int v = CudaUtils.getCudaVersion(); // 12080 -> 12.8
            runtime = v / 1000 + "." + (v % 1000) / 10;
        }
        String flavor = System.getenv("PYTORCH_FLAVOR");
        if (flavor == null || flavor.isBlank()) {
            flavor = flavorOfFolder(path);
        }
        return new GpuFacts(gpus, !gpus.isEmpty() || Files.exists(Path.of("/proc/driver/nvidia/version")), path,
                LibUtils.getVersion(), flavor, cuda, Files.exists(Path.of(path, System.mapLibraryName("torch_cuda"))),
                count, runtime);
    }

    /** The flavor in a DJL cache folder name ("2.7.1-cu128-linux-x86_64", "2.7.1-20250812-cpu-linux-x86_64"). */
    static String flavorOfFolder(String path) {
        Matcher m = CACHE_FOLDER.matcher(Path.of(path).getFileName().toString());
        return m.find() ? m.group(1) : "unknown";
    }

    /**
     * Why GPU {@code index} cannot be used, naming the missing piece (driver, CUDA libtorch, flavor, CUDA runtime,
     * that GPU) and the fix; null when it can.
     */
    public String problem(int index) {
        String where = "libtorch " + libtorchVersion + " (" + flavor + ") at " + libtorchPath;
        if (!driverPresent && cudaGpus == 0) {
            return "no NVIDIA driver on this machine (nvidia-smi lists no GPU): install the NVIDIA driver (570 or "
                    + "newer for CUDA 12.8), or use device cpu";
        }
        if (!libtorchCuda) {
            if (folderHasCuda && !flavor.startsWith("cu")) {
                return where + " is a CUDA build but DJL loaded its " + flavor + " JNI: set PYTORCH_FLAVOR=cu128, "
                        + "or use device cpu";
            }
            return where + " is a CPU build: run with STEPSLM_LIBTORCH=cu128 (DJL fetches the CUDA build once), "
                    + "or PYTORCH_LIBRARY_PATH, PYTORCH_VERSION and PYTORCH_FLAVOR=cu128 for one on disk "
                    + "(docs/gpu.md), or use device cpu";
        }
        if (cudaGpus == 0) {
            return "the driver lists " + driverGpus.size() + " GPU(s) and " + where + " has CUDA, but DJL counts "
                    + "none: it counts GPUs through libcudart.so on the system library path; install the CUDA 12 "
                    + "runtime (cuda-cudart-12-8) or add its folder to LD_LIBRARY_PATH (docs/gpu.md), "
                    + "or use device cpu";
        }
        if (index >= cudaGpus) {
            return "GPU " + index + " does not exist: libtorch sees " + cudaGpus + " GPU(s), numbered 0 to "
                    + (cudaGpus - 1) + "; choose one of them, or use device cpu";
        }
        return null;
    }

    /**
     * The start-of-run lines of a GPU run on {@code devices} (GPU indices): each device's name and memory, then
     * the libtorch (path, version, flavor), the CUDA runtime, the precision and the kernels.
     */
    public List<String> report(List<Integer> devices, String precision, String kernels) {
        List<String> lines = new ArrayList<>();
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        for (int d : devices) {
            NvidiaSmi.Gpu g = driverGpus.stream().filter(x -> x.index() == d).findFirst().orElse(null);
            lines.add(String.format(Locale.ROOT, "GPU %d: %s", d, g == null
                    ? "(name and memory unknown: nvidia-smi did not list it)"
                    : String.format(Locale.ROOT, "%s, %,d MiB, driver %s%s", g.name(), g.memoryMiB(), g.driver(),
                            visible == null ? "" : " (nvidia-smi numbering; CUDA_VISIBLE_DEVICES=" + visible + ")")));
        }
        lines.add("libtorch " + libtorchVersion + " " + flavor + " at " + libtorchPath + "; CUDA runtime "
                + (cudaRuntime.isEmpty() ? "unknown" : cudaRuntime) + "; precision " + precision + ", kernels "
                + kernels);
        return lines;
    }
}
