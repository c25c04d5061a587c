/**
 * The training driver of stepslm: one readable loop (AdamW with decay groups, warmup + cosine schedule, global-norm
 * clipping, accumulation, mixed precision with loss scaling), evaluation, resumable checkpoints and perplexity.
 * It joins the text world (datasets) and the tensor world (lm-model); nothing here knows how a tokenizer works.
 */
package io.stepslm.train;
