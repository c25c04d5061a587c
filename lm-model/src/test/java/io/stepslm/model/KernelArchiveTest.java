package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;

/** The kernel archive file. */
class KernelArchiveTest {

    @Test
    void archiveIsDeterministicAndWrittenAtomically(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertTrue(java.util.Arrays.equals(KernelArchive.bytes(), KernelArchive.bytes()), "same bytes every build");
        Path pt = dir.resolve("kernels.pt");
        KernelArchive.write(pt);
        try (ZipFile zip = new ZipFile(pt.toFile())) {
            assertTrue(zip.getEntry("stepslm_kernels/code/__torch__.py") != null);
            assertTrue(zip.getEntry("stepslm_kernels/data.pkl") != null);
            zip.stream().forEach(e -> assertEquals(java.util.zip.ZipEntry.STORED, e.getMethod(), e.getName()));
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
        String src = KernelArchive.source();
        for (String op : new String[] {"torch.scaled_dot_product_attention", "torch.rms_norm", "torch.layer_norm",
                "torch.gelu", "torch.silu", "torch.to(x, 15)"}) {
            assertTrue(src.contains(op), op);
        }
    }
}
