package io.stepslm.generate;

/**
 * Token ids to text, supplied by the caller (the generate module knows no tokenizer): {@code tokenizer::decode}.
 * A BPE token may hold part of a UTF-8 character; the decoder then ends the text with U+FFFD, and generation holds
 * such tokens back until the character is complete.
 */
@FunctionalInterface
public interface TokenDecoder {
    String decode(int[] ids);
}
