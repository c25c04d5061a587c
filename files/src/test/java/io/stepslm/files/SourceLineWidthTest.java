package io.stepslm.files;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The house style allows at most 120 characters a line (../shared/design/architecture.md). This test lives in the
 * lowest module so that {@code mvn verify} fails early, naming each line, when any module's Java source exceeds it.
 */
class SourceLineWidthTest {

    private static final int MAX_WIDTH = 120;

    @Test
    void everyJavaLineOfEveryModuleFitsTheHouseWidth() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent(); // tests run in files/
        assertTrue(Files.readString(root.resolve("pom.xml")).contains("<artifactId>stepslm-parent</artifactId>"),
                () -> root + " is not the stepslm project root; run the test from the files module");
        List<Path> sources = javaSources(root);
        // A walk that found nothing would pass without checking anything.
        assertTrue(sources.size() > 100, () -> "only " + sources.size() + " Java files found under " + root);
        List<String> tooLong = new ArrayList<>();
        for (Path file : sources) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int width = line.codePointCount(0, line.length());
                if (width > MAX_WIDTH) {
                    tooLong.add(root.relativize(file) + ":" + (i + 1) + " has " + width + " characters");
                }
            }
        }
        if (!tooLong.isEmpty()) {
            fail(tooLong.size() + " lines are longer than " + MAX_WIDTH + " characters; wrap them (at an argument"
                    + " list, an operator or a string split with +):\n" + String.join("\n", tooLong));
        }
    }

    /** Every .java file under a module's src folder (main and test); build output in target/ is not source. */
    private static List<Path> javaSources(Path root) throws IOException {
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path src : modules.map(m -> m.resolve("src")).filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> files = Files.walk(src)) {
                    files.filter(f -> f.toString().endsWith(".java") && Files.isRegularFile(f)).forEach(sources::add);
                }
            }
        }
        return sources;
    }
}
