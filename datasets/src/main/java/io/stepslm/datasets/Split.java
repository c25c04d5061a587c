package io.stepslm.datasets;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The train/validation split. Either by a stable hash of each document's text (a document, and every exact
 * duplicate of it, lands on one side whatever the file order, like the hash splits of C4 and The Pile), or by file:
 * sources whose path matches one of {@code validationFiles} (a file name such as {@code persuasion.txt} or a glob
 * such as {@code **}{@code /val/*.jsonl}) are validation, all others training.
 *
 * @param validationFraction share of documents sent to validation when splitting by hash, in [0, 1)
 * @param validationFiles file names or globs of the validation files; when not empty the split is by file
 */
public record Split(double validationFraction, List<String> validationFiles) {

    /** Which side of the split a document is on. */
    public enum Part {
        TRAIN,
        VALIDATION;

        /** Short name used in shard file names and the manifest. */
        public String shortName() {
            return this == TRAIN ? "train" : "val";
        }
    }

    public Split {
        validationFiles = List.copyOf(validationFiles);
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + validationFraction
                    + " (e.g. 0.005 for 0.5 %)");
        }
        if (!validationFiles.isEmpty() && validationFraction != 0) {
            throw new IllegalArgumentException("choose one split: by hash (validation fraction " + validationFraction
                    + ") or by file (" + validationFiles + "), not both");
        }
    }

    /** Everything is training data. */
    public static Split none() {
        return new Split(0, List.of());
    }

    /** nanoGPT's openwebtext prepare holds out 0.05 %; small corpora want more, e.g. 0.1 (10 %). */
    public static Split byHash(double validationFraction) {
        return new Split(validationFraction, List.of());
    }

    /** The Austen convention: {@code Split.byFile(List.of("persuasion.txt"))}. */
    public static Split byFile(List<String> validationFiles) {
        if (validationFiles.isEmpty()) {
            throw new IllegalArgumentException("split by file needs at least one validation file name or glob");
        }
        return new Split(0, validationFiles);
    }

    public boolean byFile() {
        return !validationFiles.isEmpty();
    }

    /**
     * The side of a document, decided from its source and the text of its first piece (later pieces of a long
     * document follow their first piece, so a document is never cut across the split).
     */
    public Part partOf(String source, String firstPieceText) {
        if (byFile()) {
            return matchesValidationFile(source) ? Part.VALIDATION : Part.TRAIN;
        }
        if (validationFraction == 0) {
            return Part.TRAIN;
        }
        return unitInterval(firstPieceText) < validationFraction ? Part.VALIDATION : Part.TRAIN;
    }

    /** True when a source path matches a validation file name or glob; tar entries match by their entry path. */
    public boolean matchesValidationFile(String source) {
        String path = source.contains("!/") ? source.substring(source.indexOf("!/") + 2) : source;
        Path p = Path.of(path);
        for (String pattern : validationFiles) {
            if (pattern.contains("*") || pattern.contains("?") || pattern.contains("{")) {
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
                if (m.matches(p) || (p.getFileName() != null && m.matches(p.getFileName()))) {
                    return true;
                }
            } else if (p.endsWith(pattern) || path.equals(pattern)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return byFile() ? "by file, validation " + validationFiles
                : "by hash, validation fraction " + validationFraction;
    }

    /** First 53 bits of SHA-256 of the UTF-8 text as a number in [0, 1): stable across runs, JVMs and machines. */
    static double unitInterval(String text) {
        byte[] d = sha256().digest(text.getBytes(StandardCharsets.UTF_8));
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (d[i] & 0xff);
        }
        return (bits >>> 11) * 0x1.0p-53;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which every Java SE runtime must provide", e);
        }
    }
}
