package io.stepslm.serve;

/**
 * A request setting outside its allowed range: the HTTP API answers 400 with {@link #field()} as the OpenAI error's
 * {@code param}, the chat loop prints the message and keeps the old value.
 */
public final class InvalidField extends IllegalArgumentException {

    private final String field;

    public InvalidField(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The request field (as the API spells it, e.g. {@code max_tokens}). */
    public String field() {
        return field;
    }
}
