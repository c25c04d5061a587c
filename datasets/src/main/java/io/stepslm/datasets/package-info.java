/**
 * Streams text corpora (files, folders, JSONL, compressed files, tar archives) into packed windows of token ids,
 * and writes/reads pre-tokenized shards. Produces plain Java int ids; the training driver turns them into tensors.
 */
package io.stepslm.datasets;
