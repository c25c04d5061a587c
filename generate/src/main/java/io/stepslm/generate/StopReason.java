package io.stepslm.generate;

/** Why a generation ended (OpenAI's {@code finish_reason}: LENGTH is "length", the stops are "stop"). */
public enum StopReason {
    /** maxNewTokens reached. */
    LENGTH,
    /** one of the stop token ids was generated. */
    STOP_TOKEN,
    /** the output text came to contain a stop string. */
    STOP_STRING,
    /** the caller released the slot before it finished. */
    CANCELLED
}
