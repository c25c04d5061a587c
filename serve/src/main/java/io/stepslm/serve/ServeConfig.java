package io.stepslm.serve;

/**
 * Where and how the HTTP server listens.
 *
 * @param host         address to bind; loopback by default so that nothing is exposed by accident
 * @param port         TCP port; 0 = any free port (tests)
 * @param apiKey       when not empty, every endpoint but {@code /health} needs {@code Authorization: Bearer KEY}
 * @param maxBodyBytes largest request body accepted (413 above it)
 * @param graceMillis  on shutdown, how long running generations may finish before they are cut
 */
public record ServeConfig(String host, int port, String apiKey, int maxBodyBytes, long graceMillis) {

    public ServeConfig {
        if (host.isBlank()) {
            throw new IllegalArgumentException("--host is empty: give an address to bind, e.g. 127.0.0.1");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port " + port + " must be in 0..65535 (0 = any free port)");
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("max body size " + maxBodyBytes + " must be at least 1024 bytes");
        }
        if (graceMillis < 0) {
            throw new IllegalArgumentException("shutdown grace " + graceMillis + " ms must be 0 or more");
        }
    }

    /** Loopback, port 8080, no API key, 1 MiB bodies (llama.cpp's order of size), 5 s of grace. */
    public static ServeConfig defaults() {
        return new ServeConfig("127.0.0.1", 8080, "", 1 << 20, 5000);
    }

    public ServeConfig withPort(int newPort) {
        return new ServeConfig(host, newPort, apiKey, maxBodyBytes, graceMillis);
    }

    public ServeConfig withApiKey(String key) {
        return new ServeConfig(host, port, key, maxBodyBytes, graceMillis);
    }
}
