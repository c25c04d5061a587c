package io.stepslm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stepslm.childprocess.ChildProcess;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training memory grows with the number of distinct pre-tokens, not with the corpus: a child JVM with a 48 MB heap
 * trains on a 64 MB file (reading it whole would need 64 MB of bytes plus the string).
 */
class TrainerMemoryTest {

    /** The child: trains on the file and prints the number of pre-tokens it counted. */
    public static void main(String[] args) throws Exception {
        BpeTrainer.Result r = new BpeTrainer(BpeTrainerConfig.gpt2(1000)).train(List.of(Paths.get(args[0])));
        System.out.println(r.stats().pretokens() + " " + r.stats().bytes());
    }

    @Test
    @Tag("slow")
    void trainsOnAFileLargerThanTheHeap(@TempDir Path dir) throws Exception {
        Path big = dir.resolve("big.txt");
        long words = 0;
        long bytes = 0;
        try (BufferedWriter w = Files.newBufferedWriter(big, StandardCharsets.UTF_8)) {
            String line = "It is a truth universally acknowledged, that a single man in possession of a good fortune";
            for (int i = 0; bytes < 64L << 20; i++) {
                String s = line + " " + (i % 5000) + ".\n";
                w.write(s);
                bytes += s.length();
                words += 19;
            }
        }
        String out;
        try (ChildProcess p = ChildProcess.java(List.of("-Xmx48m"), TrainerMemoryTest.class.getName(),
                List.of(big.toString()))) {
            int exit = p.waitFor(Duration.ofMinutes(5));
            out = p.output();
            assertEquals(0, exit, out);
        }
        String[] parts = out.trim().split("\\s+");
        // per line: 16 words, ',', ' 123', '.', '\n' = 20 pre-tokens
        assertEquals(words / 19 * 20, Long.parseLong(parts[parts.length - 2]), out);
        assertEquals(bytes, Long.parseLong(parts[parts.length - 1]), out);
    }
}
