package io.llmstream.tokenizer.chat;

/** A template's syntax error, or an error while rendering it (Jinja's TemplateSyntaxError, UndefinedError, ...). */
final class TemplateError extends RuntimeException {
    final int line;

    TemplateError(String message, int line) {
        super(message, null, false, false);
        this.line = line;
    }

    TemplateError(String message) {
        this(message, 0);
    }
}
