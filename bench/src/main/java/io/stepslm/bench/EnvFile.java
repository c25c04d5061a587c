package io.stepslm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A shell environment file of {@code export NAME=value} lines (what the anchors' setup_torch_cpu.sh writes), read
 * without running a shell: a peer then starts from an argument list with these variables added.
 */
final class EnvFile {

    private static final Pattern EXPORT = Pattern.compile("export\\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)");

    private EnvFile() {
    }

    /** The variables of {@code file}; {@code flag} names the option it came from in the error message. */
    static Map<String, String> read(Path file, String flag) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = EXPORT.matcher(line);
            if (!m.matches() || m.group(2).contains("$") || m.group(2).contains("`")) {
                throw new IllegalArgumentException(flag + " " + file + " line " + (i + 1) + " is not `export "
                        + "NAME=value` with a literal value: '" + line + "'; rewrite it so, or rerun "
                        + "setup_torch_cpu.sh");
            }
            env.put(m.group(1), unquote(m.group(2)));
        }
        return env;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}
