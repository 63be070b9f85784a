package io.llmstream.schemas.registry;

/**
 * A schema-registry failure with the HTTP status and the Confluent error code (e.g. 404/40401 subject not found,
 * 404/40403 schema not found, 409 incompatible, 422/42201 invalid schema). The message names the subject or id.
 */
public class SchemaRegistryException extends RuntimeException {
    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(String message, int httpStatus, int errorCode) {
        this(message, httpStatus, errorCode, null);
    }

    public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** The HTTP status (0 when the registry could not be reached at all). */
    public int httpStatus() {
        return httpStatus;
    }

    /** The Confluent error code, e.g. 40401; equal to the HTTP status when the server gave none. */
    public int errorCode() {
        return errorCode;
    }
}
