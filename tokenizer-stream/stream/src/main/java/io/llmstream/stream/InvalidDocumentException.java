package io.llmstream.stream;

/**
 * A document the application refuses (too large, empty when empty text is dead-lettered). Thrown from the processor so
 * Kafka Streams' processing-exception handler sends the original record to the dead-letter topic with this message.
 */
public final class InvalidDocumentException extends RuntimeException {
    public InvalidDocumentException(String message) {
        super(message, null, false, false);
    }
}
