package io.stepslm.machine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The GPUs the NVIDIA driver lists, from {@code nvidia-smi}: the one source of a GPU's name and the driver's
 * version (DJL's CudaUtils offers neither), and the independent witness that tells "no driver" apart from "a
 * driver but libtorch cannot use it".
 */
public final class NvidiaSmi {

    /** One GPU as the driver lists it. */
    public record Gpu(int index, String name, long memoryMiB, String driver) {
    }

    static final List<String> QUERY = List.of("nvidia-smi",
            "--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader,nounits");

    private NvidiaSmi() {
    }

    /** The driver's GPUs; empty when nvidia-smi is missing, fails or does not answer within 10 s. */
    public static List<Gpu> query() {
        Process p;
        try {
            p = new ProcessBuilder(QUERY).redirectErrorStream(true).start();
        } catch (IOException e) {
            return List.of(); // not installed: no NVIDIA driver on this machine
        }
        try (InputStream in = p.getInputStream()) {
            // read on another thread, so a hung nvidia-smi cannot block us past the timeout
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(in));
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            return p.exitValue() == 0 ? parse(out.get(5, TimeUnit.SECONDS)) : List.of();
        } catch (Exception e) {
            p.destroyForcibly();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return List.of();
        }
    }

    private static String readAll(InputStream in) {
        try {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines such as {@code 0, NVIDIA H100 80GB HBM3, 81559, 570.86.15}; lines that do not parse are skipped. */
    static List<Gpu> parse(String csv) {
        List<Gpu> gpus = new ArrayList<>();
        for (String line : csv.split("\\R")) {
            String[] f = line.split(",");
            if (f.length < 4) {
                continue;
            }
            try {
                // a name may hold a comma: index first, memory and driver last
                String name = String.join(",", java.util.Arrays.copyOfRange(f, 1, f.length - 2)).trim();
                gpus.add(new Gpu(Integer.parseInt(f[0].trim()), name, Long.parseLong(f[f.length - 2].trim()),
                        f[f.length - 1].trim()));
            } catch (NumberFormatException e) {
                // a warning or an "[N/A]" field: not a GPU line
            }
        }
        return List.copyOf(gpus);
    }
}
