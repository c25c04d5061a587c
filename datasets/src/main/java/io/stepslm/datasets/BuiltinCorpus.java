package io.stepslm.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * The corpus shipped inside stepslm so that the demo runs on a fresh machine: Jane Austen's
 * <i>Pride and Prejudice</i> (public domain, from Debian's r-cran-janeaustenr 1.0.0), gzip-compressed.
 */
public final class BuiltinCorpus {

    /** Name shown to users and recorded in manifests. */
    public static final String NAME = "builtin:prideprejudice";

    private static final String RESOURCE = "prideprejudice.txt.gz";

    private BuiltinCorpus() {}

    /** Opens the decompressed text as a stream of UTF-8 bytes; the caller closes it. */
    public static InputStream open() throws IOException {
        InputStream raw = BuiltinCorpus.class.getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new IOException("the built-in corpus resource " + RESOURCE
                    + " is missing from the stepslm jar: rebuild with 'mvn -B package'");
        }
        return new GZIPInputStream(raw, 1 << 16);
    }

    /** The whole text (about 0.7 MB). */
    public static String text() {
        try (InputStream in = open()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
