package io.stepslm.childprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChildProcessTest {

    /** The case the old tests could not bound: a child that keeps its output open and never exits. */
    @Test
    void aChildThatNeverExitsIsKilledWhenTheWaitRunsOut() {
        try (ChildProcess c = ChildProcess.start(List.of("sh", "-c", "echo ready; exec sleep 600"))) {
            assertEquals("ready", c.awaitLine(l -> l.startsWith("ready"), Duration.ofSeconds(60)));
            AssertionError e = assertThrows(AssertionError.class, () -> c.waitFor(Duration.ofMillis(300)));
            assertTrue(e.getMessage().contains("did not finish") && e.getMessage().contains("ready"), e.getMessage());
            assertFalse(c.isAlive(), "the child is killed");
        }
    }

    @Test
    void outputExitStatusAndEndOfOutputAreReported() {
        try (ChildProcess c = ChildProcess.start(List.of("sh", "-c", "echo one; echo two >&2; exit 3"))) {
            assertNull(c.awaitLine(l -> l.equals("three"), Duration.ofSeconds(60)), "the child ended without the line");
            assertEquals(3, c.waitFor(Duration.ofSeconds(60)));
            assertEquals("one\ntwo\n", c.output());
        }
    }

    @Test
    void aJavaChildRunsWithTheTestClasspath() {
        try (ChildProcess c = ChildProcess.java(List.of("-Xmx32m"), Echo.class.getName(), List.of("a", "b"))) {
            assertEquals(0, c.waitFor(Duration.ofSeconds(120)), c.output());
            assertEquals("a b\n", c.output());
        }
    }

    @Test
    void killIsSigkill() {
        try (ChildProcess c = ChildProcess.start(List.of("sh", "-c", "trap '' TERM INT; echo ready; exec sleep 600"))) {
            c.awaitLine("ready"::equals, Duration.ofSeconds(60));
            c.kill();
            assertFalse(c.isAlive());
        }
    }

    public static final class Echo {
        public static void main(String[] args) {
            System.out.println(String.join(" ", args));
        }
    }
}
