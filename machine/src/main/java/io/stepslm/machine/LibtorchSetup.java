package io.stepslm.machine;

import ai.djl.util.ClassLoaderUtils;
import ai.djl.util.Platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which libtorch DJL is about to load, read before it loads one: DJL's own settings (PYTORCH_LIBRARY_PATH,
 * PYTORCH_VERSION, PYTORCH_FLAVOR), the version a PYTORCH_LIBRARY_PATH folder really holds, the version DJL's JNI
 * was built for and the flavors it ships a JNI for. DJL 0.36 (LibUtils) compares only version strings: a folder
 * holding another libtorch loads and then fails or corrupts memory at the first mismatched call, so
 * {@link #problem()} refuses it first, naming both versions. Pure over its fields, so every case is testable on a
 * CPU-only machine.
 *
 * @param libraryPath     PYTORCH_LIBRARY_PATH, "" when unset
 * @param versionSetting  PYTORCH_VERSION, "" when unset
 * @param flavorSetting   PYTORCH_FLAVOR, "" when unset
 * @param libraryDir      the first folder of libraryPath holding libtorch.so (as DJL picks it), "" when none
 * @param folderVersion   the libtorch version read from that folder ("2.7.1+cu128"), "" when it names none
 * @param versionSource   the file folderVersion was read from, "" when none
 * @param expectedVersion the libtorch version DJL's JNI is built for (pytorch-engine.properties: 2.7.1)
 * @param jniFlavors      the flavors pytorch-jni ships a JNI for on this platform (cpu, cu128)
 */
public record LibtorchSetup(String libraryPath, String versionSetting, String flavorSetting, String libraryDir,
                            String folderVersion, String versionSource, String expectedVersion,
                            List<String> jniFlavors) {

    /** Flavors DJL 0.36's pytorch-jni may carry; each is looked up on the class path. */
    private static final List<String> KNOWN_FLAVORS = List.of("cpu", "cu118", "cu121", "cu124", "cu126", "cu128");
    private static final Pattern WHEEL_VERSION = Pattern.compile("(?m)^__version__\\s*=\\s*['\"]([^'\"]+)['\"]");

    public LibtorchSetup {
        jniFlavors = List.copyOf(jniFlavors);
    }

    /** The settings of this process and what they point at. */
    public static LibtorchSetup fromEnvironment() {
        return from(LibtorchSetup::setting);
    }

    /** As {@link #fromEnvironment()} with the settings read through {@code settings} ("" when unset). */
    public static LibtorchSetup from(UnaryOperator<String> settings) {
        String path = settings.apply("PYTORCH_LIBRARY_PATH");
        String dir = libtorchFolder(path);
        String[] version = dir.isEmpty() ? new String[] {"", ""} : folderVersion(Path.of(dir));
        String expected = Platform.fromSystem("pytorch").getVersion();
        String classifier = Platform.fromSystem("pytorch").getClassifier();
        List<String> flavors = new ArrayList<>();
        for (String f : KNOWN_FLAVORS) {
            String jni = "jnilib/" + classifier + "/" + f + "/" + System.mapLibraryName("djl_torch");
            if (ClassLoaderUtils.getContextClassLoader().getResource(jni) != null) {
                flavors.add(f);
            }
        }
        return new LibtorchSetup(path, settings.apply("PYTORCH_VERSION"), settings.apply("PYTORCH_FLAVOR"), dir,
                version[0],
                version[1], expected == null ? "" : expected, flavors);
    }

    /** As DJL's Utils.getEnvOrSystemProperty: the environment first, then a system property; "" when unset. */
    public static String setting(String name) {
        String v = System.getenv(name);
        if (v == null) {
            v = System.getProperty(name);
        }
        return v == null ? "" : v.trim();
    }

    /** The first entry of a PYTORCH_LIBRARY_PATH list that holds libtorch.so, as DJL's LibUtils chooses. */
    static String libtorchFolder(String libraryPath) {
        String lib = System.mapLibraryName("torch");
        for (String entry : libraryPath.split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry);
            if (Files.isRegularFile(p) && p.getFileName().toString().equals(lib)) {
                return p.toAbsolutePath().getParent().toString();
            }
            if (Files.isRegularFile(p.resolve(lib))) {
                return p.toAbsolutePath().toString();
            }
        }
        return "";
    }

    /**
     * The version a libtorch lib/ folder holds and the file that says so: {@code ../version.py} of a torch wheel
     * ({@code __version__ = '2.7.1+cu128'}) or {@code ../build-version} of a LibTorch zip. {"", ""} when neither.
     */
    static String[] folderVersion(Path libDir) {
        Path parent = libDir.toAbsolutePath().getParent();
        if (parent == null) {
            return new String[] {"", ""};
        }
        try {
            Path wheel = parent.resolve("version.py");
            if (Files.isRegularFile(wheel)) {
                Matcher m = WHEEL_VERSION.matcher(Files.readString(wheel, StandardCharsets.UTF_8));
                if (m.find()) {
                    return new String[] {m.group(1), wheel.toString()};
                }
            }
            Path zip = parent.resolve("build-version");
            if (Files.isRegularFile(zip)) {
                String v = Files.readString(zip, StandardCharsets.UTF_8).trim();
                if (!v.isEmpty()) {
                    return new String[] {v, zip.toString()};
                }
            }
        } catch (IOException e) {
            return new String[] {"", ""}; // unreadable: reported as an unknown version by note()
        }
        return new String[] {"", ""};
    }

    /** "2.7.1+cu128" -> "2.7.1": the part DJL's version pattern and the JNI compare. */
    static String release(String version) {
        Matcher m = Pattern.compile("^(\\d+\\.\\d+\\.\\d+)").matcher(version.trim());
        return m.find() ? m.group(1) : version.trim();
    }

    /** The flavor the folder's version names ("2.7.1+cu128" -> "cu128"), "" when it names none. */
    static String folderFlavor(String version) {
        int plus = version.indexOf('+');
        return plus < 0 ? "" : version.substring(plus + 1).toLowerCase(Locale.ROOT);
    }

    /**
     * Why DJL must not load this libtorch, in one line naming the setting, the problem and the fix; null when the
     * settings are consistent (or not given: then DJL uses the bundled CPU build or its cache).
     */
    public String problem() {
        String expected = expectedVersion;
        if (!versionSetting.isEmpty() && !release(versionSetting).equals(expected)) {
            return "PYTORCH_VERSION=" + versionSetting + " but DJL 0.36 runs only libtorch " + expected
                    + ": use a libtorch " + expected + " and set PYTORCH_VERSION=" + expected + " (docs/gpu.md)";
        }
        if (!flavorSetting.isEmpty() && !jniFlavors.contains(flavorSetting)) {
            return "PYTORCH_FLAVOR=" + flavorSetting + " has no JNI in DJL's pytorch-jni " + expected + " (it has "
                    + String.join(", ", jniFlavors) + "): set PYTORCH_FLAVOR to one of them, cu128 for a GPU";
        }
        if (libraryPath.isEmpty()) {
            return null;
        }
        if (libraryDir.isEmpty()) {
            return "PYTORCH_LIBRARY_PATH=" + libraryPath + " holds no " + System.mapLibraryName("torch")
                    + " (DJL would silently load another libtorch): point it at the lib/ folder of a libtorch "
                    + expected + ", e.g. torch/lib of a torch==" + expected + "+cu128 wheel";
        }
        if (!folderVersion.isEmpty() && !release(folderVersion).equals(expected)) {
            return "PYTORCH_LIBRARY_PATH=" + libraryDir + " holds libtorch " + folderVersion + " (" + versionSource
                    + ") but DJL 0.36 needs libtorch " + expected + ": point it at a libtorch " + expected
                    + " (e.g. a torch==" + expected + "+cu128 wheel), or unset it for the bundled CPU build";
        }
        if (flavorSetting.isEmpty()) {
            String guess = folderFlavor(folderVersion);
            return "PYTORCH_LIBRARY_PATH is set but PYTORCH_FLAVOR is not (DJL then looks for a *-precxx11 JNI that "
                    + "does not exist): set PYTORCH_FLAVOR=" + (guess.startsWith("cu") ? guess : "cu128")
                    + " for a CUDA libtorch or PYTORCH_FLAVOR=cpu for a CPU one";
        }
        String folderFlavor = folderFlavor(folderVersion);
        if (!folderFlavor.isEmpty() && !folderFlavor.equals(flavorSetting)) {
            return "PYTORCH_FLAVOR=" + flavorSetting + " but " + libraryDir + " holds libtorch " + folderVersion
                    + ": set PYTORCH_FLAVOR=" + folderFlavor + " so that DJL loads the JNI built for it";
        }
        return null;
    }

    /** A warning worth printing when the settings pass but could not all be verified; null when there is none. */
    public String note() {
        if (!libraryDir.isEmpty() && folderVersion.isEmpty()) {
            return "stepslm: note: cannot tell which libtorch " + libraryDir + " holds (no ../version.py or "
                    + "../build-version beside it); DJL assumes " + (versionSetting.isEmpty() ? expectedVersion
                    : versionSetting) + " and fails or corrupts memory if it is not " + expectedVersion;
        }
        return null;
    }

    /** Refuses an inconsistent setup (IllegalArgumentException with {@link #problem()}) before DJL loads it. */
    public void check() {
        String p = problem();
        if (p != null) {
            throw new IllegalArgumentException(p);
        }
    }
}
