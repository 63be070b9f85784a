package io.llmstream.stream;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Puts a document on the TRAIN or VALIDATION side by a stable hash of its id, so the same document always lands on
 * the same side, in every run, on every partition and after every restart.
 */
public final class SplitAssigner {
    private final double validationFraction;

    public SplitAssigner(double validationFraction) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("validation fraction must be in [0, 1], got " + validationFraction);
        }
        this.validationFraction = validationFraction;
    }

    public boolean isValidation(String documentId) {
        return unitHash(documentId) < validationFraction;
    }

    /** A uniform value in [0, 1) from the first 8 bytes of SHA-256(id): independent of JVM and hashCode. */
    static double unitHash(String documentId) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(documentId.getBytes(StandardCharsets.UTF_8));
            long bits = 0;
            for (int i = 0; i < 8; i++) {
                bits = (bits << 8) | (d[i] & 0xff);
            }
            return (bits >>> 11) * 0x1.0p-53;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
