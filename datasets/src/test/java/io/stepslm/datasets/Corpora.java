package io.stepslm.datasets;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

/** Builders of small test corpora: compressed copies, tar archives, generated documents. */
final class Corpora {
    private Corpora() {}

    static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** {@code bytes} compressed with a commons-compress compressor name (gz, bzip2, xz, zstd). */
    static byte[] compress(String compressor, byte[] bytes) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream out = new CompressorStreamFactory().createCompressorOutputStream(compressor, bos)) {
            out.write(bytes);
        } catch (org.apache.commons.compress.compressors.CompressorException e) {
            throw new IOException(e);
        }
        return bos.toByteArray();
    }

    /** An uncompressed tar with the given entries (name, content). */
    static byte[] tar(List<String> names, List<byte[]> contents) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bos)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            TarArchiveEntry dir = new TarArchiveEntry("docs/");
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            for (int i = 0; i < names.size(); i++) {
                TarArchiveEntry e = new TarArchiveEntry(names.get(i));
                e.setSize(contents.get(i).length);
                tar.putArchiveEntry(e);
                tar.write(contents.get(i));
                tar.closeArchiveEntry();
            }
        }
        return bos.toByteArray();
    }

    /** Random documents of a few sentences each, drawn from a small vocabulary with some non-ASCII words. */
    static List<String> documents(int count, long seed) {
        String[] words = {"the", "loader", "streams", "tokens", "Elizabeth", "Darcy", "café", "naïve", "日本", "🙂",
            "and", "of", "window", "shard"};
        Random r = new Random(seed);
        List<String> docs = new ArrayList<>();
        for (int d = 0; d < count; d++) {
            StringBuilder sb = new StringBuilder();
            int n = 5 + r.nextInt(60);
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : (r.nextInt(12) == 0 ? ".\n" : " ")).append(words[r.nextInt(words.length)]);
            }
            sb.append(" doc").append(d).append('.');
            docs.add(sb.toString());
        }
        return docs;
    }

    static int[] concat(List<int[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        int[] out = new int[n];
        int p = 0;
        for (int[] a : parts) {
            System.arraycopy(a, 0, out, p, a.length);
            p += a.length;
        }
        return out;
    }

    /** Undoes the one-id overlap of consecutive windows: the token stream they cover. */
    static int[] unwindow(List<int[]> windows) {
        List<int[]> parts = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            int[] w = windows.get(i);
            parts.add(i == 0 ? w : Arrays.copyOfRange(w, 1, w.length));
        }
        return concat(parts);
    }

    static List<int[]> drain(WindowSource src) {
        List<int[]> out = new ArrayList<>();
        while (src.hasNext()) {
            out.add(src.next());
        }
        return out;
    }
}
