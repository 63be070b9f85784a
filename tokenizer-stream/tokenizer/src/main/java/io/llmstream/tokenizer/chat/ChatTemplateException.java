package io.llmstream.tokenizer.chat;

/** A chat template we cannot parse or that failed to render (its own raise_exception included); a user error. */
public final class ChatTemplateException extends IllegalArgumentException {
    ChatTemplateException(String message) {
        super(message);
    }
}
