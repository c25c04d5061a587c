package io.stepslm.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Loads the fused kernel archive once per test class, and gives every test its own sub-manager {@code m} (closed
 * after the test, so nothing leaks between tests) and a fixed libtorch seed.
 */
abstract class FusedKernelsFixture {

    static NDManager root;
    static TorchScriptKernels fused;
    NDManager m;
    private final int seed;

    FusedKernelsFixture(int seed) {
        this.seed = seed;
    }

    @BeforeAll
    static void loadKernels() {
        root = NDManager.newBaseManager();
        fused = TorchScriptKernels.load(root);
    }

    @AfterAll
    static void closeKernels() {
        fused.close();
        root.close();
    }

    @BeforeEach
    void step() {
        m = root.newSubManager();
        Engine.getInstance().setRandomSeed(seed);
    }

    @AfterEach
    void closeStep() {
        m.close();
    }
}
