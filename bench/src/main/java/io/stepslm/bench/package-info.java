/**
 * The benchmarks behind {@code stepslm bench}: each prints its figures next to a peer measured in the same run
 * (PyTorch, HuggingFace tokenizers, an in-memory bound) with the machine's facts, so a figure can be judged where it
 * was taken. Peers run as child processes with argument lists and time limits; their scripts live in bench/.
 */
package io.stepslm.bench;
