package io.stepslm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up refusals of a libtorch DJL must not load, on facts made up here (no GPU, no other libtorch). */
class LibtorchSetupTest {

    private static final List<String> JNI = List.of("cpu", "cu128");

    private static LibtorchSetup setup(String path, String version, String flavor) {
        String dir = LibtorchSetup.libtorchFolder(path);
        String[] v = dir.isEmpty() ? new String[] {"", ""} : LibtorchSetup.folderVersion(Path.of(dir));
        return new LibtorchSetup(path, version, flavor, dir, v[0], v[1], "2.7.1", JNI);
    }

    /** A torch wheel's layout: torch/lib/libtorch.so beside torch/version.py. */
    private static Path wheel(Path root, String version) throws IOException {
        Path lib = Files.createDirectories(root.resolve("torch/lib"));
        Files.writeString(lib.resolve(System.mapLibraryName("torch")), "");
        Files.writeString(root.resolve("torch/version.py"),
                "from typing import Optional\n__version__ = '" + version + "'\ncuda: Optional[str] = '12.8'\n");
        return lib;
    }

    @Test
    void nothingSetIsTheBundledBuildAndPasses() {
        assertNull(setup("", "", "").problem());
        assertNull(setup("", "", "cu128").problem()); // STEPSLM_LIBTORCH=cu128: DJL's own cache
    }

    @Test
    void aFolderWithAnotherVersionIsRefusedNamingBoth(@TempDir Path tmp) throws IOException {
        Path lib = wheel(tmp, "2.11.0+cu128");
        String p = setup(lib.toString(), "2.7.1", "cu128").problem();
        assertTrue(p.contains("2.11.0+cu128") && p.contains("2.7.1") && p.contains("version.py"), p);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> setup(lib.toString(), "", "cu128").check());
        assertTrue(e.getMessage().startsWith("PYTORCH_LIBRARY_PATH=" + lib), e.getMessage());
    }

    @Test
    void aMatchingWheelPasses(@TempDir Path tmp) throws IOException {
        Path lib = wheel(tmp, "2.7.1+cu128");
        LibtorchSetup s = setup(lib.toString(), "2.7.1", "cu128");
        assertNull(s.problem());
        assertNull(s.note());
        assertEquals("2.7.1+cu128", s.folderVersion());
    }

    @Test
    void aLibtorchZipIsReadFromBuildVersion(@TempDir Path tmp) throws IOException {
        Path lib = Files.createDirectories(tmp.resolve("libtorch/lib"));
        Files.writeString(lib.resolve(System.mapLibraryName("torch")), "");
        Files.writeString(tmp.resolve("libtorch/build-version"), "2.6.0+cu124\n");
        String p = setup(lib.toString(), "", "cu128").problem();
        assertTrue(p.contains("holds libtorch 2.6.0+cu124") && p.contains("needs libtorch 2.7.1"), p);
    }

    @Test
    void aWrongPytorchVersionSettingIsRefused() {
        String p = setup("", "2.11.0", "").problem();
        assertTrue(p.startsWith("PYTORCH_VERSION=2.11.0 but DJL 0.36 runs only libtorch 2.7.1"), p);
        assertNull(setup("", "2.7.1", "").problem());
    }

    @Test
    void aMissingOrUnknownFlavorIsRefused(@TempDir Path tmp) throws IOException {
        Path lib = wheel(tmp, "2.7.1+cu128");
        String missing = setup(lib.toString(), "2.7.1", "").problem();
        assertTrue(missing.contains("PYTORCH_FLAVOR is not") && missing.contains("PYTORCH_FLAVOR=cu128"), missing);
        String unknown = setup("", "", "cu121").problem();
        assertTrue(unknown.contains("PYTORCH_FLAVOR=cu121 has no JNI") && unknown.contains("cpu, cu128"), unknown);
        String contradicting = setup(lib.toString(), "2.7.1", "cpu").problem();
        assertTrue(contradicting.contains("set PYTORCH_FLAVOR=cu128"), contradicting);
    }

    @Test
    void aFolderWithoutLibtorchIsRefusedAndAnUnversionedOneNoted(@TempDir Path tmp) throws IOException {
        String p = setup(tmp.toString(), "2.7.1", "cu128").problem();
        assertTrue(p.contains("holds no " + System.mapLibraryName("torch")), p);
        Path bare = Files.createDirectories(tmp.resolve("bare/lib"));
        Files.writeString(bare.resolve(System.mapLibraryName("torch")), "");
        LibtorchSetup s = setup(tmp + java.io.File.pathSeparator + bare, "2.7.1", "cu128");
        assertEquals(bare.toAbsolutePath().toString(), s.libraryDir()); // the first entry holding libtorch, as DJL
        assertNull(s.problem());
        assertTrue(s.note().contains("cannot tell which libtorch"), s.note());
    }

    @Test
    void thisProcessIsConsistent() {
        LibtorchSetup here = LibtorchSetup.fromEnvironment(); // the test JVM: bundled CPU natives
        assertEquals("2.7.1", here.expectedVersion());
        assertTrue(here.jniFlavors().contains("cpu"), here.jniFlavors().toString());
        assertNull(here.problem());
    }
}
