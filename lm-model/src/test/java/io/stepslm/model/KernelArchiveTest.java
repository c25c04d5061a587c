package io.stepslm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.childprocess.ChildProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.ZipFile;

/** The kernel archive file. */
class KernelArchiveTest {

    @Test
    void archiveIsDeterministicAndWrittenAtomically(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // "Every build" means other JVMs, in other time zones (zip entry times are local times) and locales.
        String here = sha256(KernelArchive.bytes());
        for (String zone : new String[] {"UTC", "Pacific/Kiritimati", "America/Los_Angeles"}) {
            try (ChildProcess c = ChildProcess.java(List.of("-Xmx64m", "-Duser.timezone=" + zone, "-Duser.language=tr"),
                    ArchiveHash.class.getName(), List.of())) {
                assertEquals(0, c.waitFor(Duration.ofMinutes(2)), c.output());
                assertEquals(here, c.output().trim(), "the archive's bytes in a JVM in " + zone);
            }
        }
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

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** A fresh JVM: prints the SHA-256 of the archive it builds. */
    public static final class ArchiveHash {
        public static void main(String[] args) {
            System.out.println(sha256(KernelArchive.bytes()));
        }
    }
}
