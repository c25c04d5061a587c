package io.stepslm.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @TempDir
    Path dir;

    private List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writeCreatesFoldersAndReplacesContent() throws IOException {
        Path file = dir.resolve("a/b/out.bin");
        AtomicFiles.write(file, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
        AtomicFiles.writeString(file, "héllo");
        assertEquals("héllo", Files.readString(file, StandardCharsets.UTF_8));
        AtomicFiles.writeLines(file, List.of("x", "y"));
        assertEquals(List.of("x", "y"), Files.readAllLines(file, StandardCharsets.UTF_8));
        assertEquals(List.of("out.bin"), names(file.getParent()), "no temporary file is left next to the target");
    }

    @Test
    void writtenFilesFollowTheUmaskLikeAnyOther() throws IOException {
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        Path file = dir.resolve("tokenizer.json");
        AtomicFiles.writeString(file, "{}");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file),
                "not a temporary file's 0600");
    }

    @Test
    void failedWriteLeavesTheOldFileIntactAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("state.json");
        AtomicFiles.writeString(file, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(file, tmp -> {
            Files.writeString(tmp, "half of the new conte");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(file));
        assertEquals(List.of("state.json"), names(dir));
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(file, tmp -> {
            throw new IllegalStateException("bug in the writer");
        }));
        assertEquals("old", Files.readString(file));
        assertEquals(List.of("state.json"), names(dir));
    }

    @Test
    void contentWritesIntoATemporaryFileInTheTargetsFolder() throws IOException {
        Path file = dir.resolve("report.html");
        AtomicFiles.write(file, tmp -> {
            assertEquals(dir.toAbsolutePath(), tmp.getParent(), "same folder, so that the rename is atomic");
            assertFalse(tmp.getFileName().toString().equals("report.html"));
            assertTrue(tmp.getFileName().toString().startsWith(".report.html."));
            Files.writeString(tmp, "<html>");
        });
        assertEquals("<html>", Files.readString(file));
    }

    @Test
    void replaceDirectoryInstallsTheStagedFolderAndRemovesTheOldOne() throws IOException {
        Path target = dir.resolve("best");
        Path staged = dir.resolve(".tmp-best");
        Files.createDirectories(staged.resolve("model"));
        Files.writeString(staged.resolve("model/w"), "first");
        AtomicFiles.replaceDirectory(staged, target); // no target yet
        assertEquals("first", Files.readString(target.resolve("model/w")));

        Files.createDirectories(staged);
        Files.writeString(staged.resolve("other"), "second");
        AtomicFiles.replaceDirectory(staged, target);
        assertEquals("second", Files.readString(target.resolve("other")));
        assertFalse(Files.exists(target.resolve("model")), "the old content is gone, not merged");
        assertEquals(List.of("best"), names(dir), "neither the staged nor the set-aside folder is left");
    }

    @Test
    void replaceDirectoryWithoutAStagedFolderKeepsTheTarget() throws IOException {
        Path target = dir.resolve("data");
        Files.createDirectories(target);
        Files.writeString(target.resolve("f"), "kept");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AtomicFiles.replaceDirectory(dir.resolve(".missing"), target));
        assertTrue(e.getMessage().contains(".missing"), e.getMessage());
        assertEquals("kept", Files.readString(target.resolve("f")));
    }

    @Test
    void deleteRecursivelyRemovesATreeAndIgnoresAMissingPath() throws IOException {
        Path root = dir.resolve("tree");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/b/c/f"), "x");
        Files.writeString(root.resolve("a/g"), "y");
        AtomicFiles.deleteRecursively(root);
        assertFalse(Files.exists(root));
        AtomicFiles.deleteRecursively(root); // already gone: no error
        Path single = dir.resolve("single");
        Files.writeString(single, "z");
        AtomicFiles.deleteRecursively(single);
        assertFalse(Files.exists(single));
    }
}
