/**
 * Serves a checkpoint over an OpenAI-compatible HTTP API (Javalin on Jetty, server-sent events for streaming) and
 * talks to it in a terminal (JLine). Requests become generations on a bounded pool of slots behind {@link
 * io.stepslm.serve.Engine}; the text world (tokenizer, templates, stop strings) stays here, token ids go to generate.
 */
package io.stepslm.serve;
