package io.stepslm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stepslm.childprocess.ChildProcess;
import io.stepslm.tokenizer.CharTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stepslm data prepare} and {@code data info} end to end through the root command line. */
class DataCommandTest {


    @Test
    void prepareThenInfo(@TempDir Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            b.append("{\"text\": \"Paragraph ").append(i).append(" of a truth universally acknowledged.\"}\n");
        }
        b.append("{\"title\": \"no text field\"}\n");
        Path corpus = Files.writeString(dir.resolve("c.jsonl"), b.toString());
        Path tok = dir.resolve("char.json");
        CharTokenizer.fromText(b.toString()).save(tok);
        Path out = dir.resolve("ds");

        CliRun failed = CliRun.of("data", "prepare", "--input", corpus.toString(), "--format", "jsonl",
                "--tokenizer", tok.toString(), "--out", out.toString(), "--quiet");
        assertEquals(1, failed.exit());
        assertTrue(failed.err().contains("c.jsonl line 201 has no field \"text\""), failed.err());
        assertFalse(Files.exists(out), "nothing is left behind");

        CliRun ok = CliRun.of("data", "prepare", "--input", corpus.toString(), "--format", "jsonl",
                "--on-error", "skip", "--val-fraction", "0.2", "--tokenizer", tok.toString(), "--out", out.toString(),
                "--quiet");
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("200 documents") || ok.out().contains(" 200 "), ok.out());
        assertTrue(ok.err().contains("1 items skipped"), ok.err());

        CliRun info = CliRun.of("data", "info", "--data", out.toString(), "--tokenizer", tok.toString(), "--verify");
        assertEquals(0, info.exit(), info.err());
        assertTrue(info.out().contains("uint16 ids") && info.out().contains("checksums verified"), info.out());

        CliRun again = CliRun.of("data", "prepare", "--input", corpus.toString(), "--tokenizer", tok.toString(),
                "--out", out.toString(), "--quiet");
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("--force"), again.err());
        CliRun badFormat = CliRun.of("data", "prepare", "--input", corpus.toString(), "--format", "xml",
                "--tokenizer", tok.toString(), "--out", dir.resolve("x").toString());
        assertTrue(badFormat.exit() != 0 && badFormat.err().contains("unknown --format 'xml'"), badFormat.err());
    }

    /**
     * Two data prepare processes into one --out: the second is refused at once naming the first one's pid (before,
     * it tokenized everything and then swapped its folder over the first one's even without --force); once the
     * holder is killed with kill -9 the OS has dropped its lock and a prepare goes through.
     */
    @Test
    void aSecondPrepareIntoTheSameOutIsRefusedNamingTheHolder(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("c.txt"), "a truth universally acknowledged\n\nsecond");
        Path tok = charTokenizer(corpus);
        Path out = dir.resolve("ds");
        String[] prepare = {"data", "prepare", "--input", corpus.toString(), "--tokenizer", tok.toString(), "--out",
                out.toString(), "--quiet"};
        try (ChildProcess holder = ChildProcess.java(List.of("-Xmx64m"), LockHolder.class.getName(),
                List.of(dir.resolve(".ds.lock").toString()))) { // the lock data prepare takes beside --out
            assertNotNull(holder.awaitLine("locked"::equals, Duration.ofMinutes(1)), holder.output());
            CliRun refused = CliRun.of(prepare);
            assertEquals(1, refused.exit(), refused.err());
            assertTrue(refused.err().contains("the output folder " + out + " is in use by another stepslm process (pid "
                    + holder.pid() + "): wait for its data prepare to end or stop it, or choose another --out"),
                    refused.err());
            assertFalse(Files.exists(out), "nothing was written");
            holder.kill();
        }
        CliRun ok = CliRun.of(prepare);
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(Files.exists(out.resolve("manifest.json")));
    }

    /**
     * A data prepare killed with kill -9 leaves its temporary folder (as big as the dataset) beside --out; the next
     * data prepare into that --out removes it and says so, and puts back a dataset that a killed --force replacement
     * had set aside (issue 13, item 5).
     */
    @Test
    void theLeftoversOfAKilledPrepareAreRemovedByTheNext(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("c.txt"), "a truth universally acknowledged\n\nsecond");
        Path tok = charTokenizer(corpus);
        Path out = dir.resolve("ds");
        // pid 999999999 is above Linux's pid_max (4194304): that process is surely gone
        Path dead = Files.createDirectories(dir.resolve(".ds.tmp-999999999-k1ll3d"));
        Files.write(dead.resolve("train_000000.bin"), new byte[4096]);
        Path live = Files.createDirectories(dir.resolve(".ds.tmp-" + ProcessHandle.current().parent().orElseThrow()
                .pid() + "-busy")); // a prepare of a process that still runs is left alone
        CliRun ok = CliRun.of("data", "prepare", "--input", corpus.toString(), "--tokenizer", tok.toString(), "--out",
                out.toString(), "--quiet");
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("removed " + dead + ", left by an earlier data prepare that did not finish"),
                ok.out());
        assertFalse(Files.exists(dead));
        assertTrue(Files.exists(live));

        // killed between the two renames of --force: only the set-aside copy of the old dataset exists
        Path aside = dir.resolve(".ds.tmp-999999999-f0rc3.old");
        Files.move(out, aside);
        Files.createDirectories(dir.resolve(".ds.tmp-999999999-f0rc3"));
        assertEquals(java.util.List.of("restored " + out + " from " + aside + " (an earlier --force replacement was "
                + "killed between its two renames)", "removed " + dir.resolve(".ds.tmp-999999999-f0rc3") + ", left by "
                + "an earlier data prepare that did not finish"), io.stepslm.datasets.ShardWriter.removeStale(out));
        assertTrue(Files.exists(out.resolve("manifest.json")), "the old dataset is back");
    }

    /** A char tokenizer of the corpus's characters, saved beside it. */
    private static Path charTokenizer(Path corpus) throws java.io.IOException {
        Path tok = corpus.resolveSibling("char.json");
        CharTokenizer.fromText(Files.readString(corpus)).save(tok);
        return tok;
    }
}
