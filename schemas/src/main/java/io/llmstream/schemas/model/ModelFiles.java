package io.llmstream.schemas.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * File names inside a model directory ({@code <models-root>/<name>/<version>/}) and the digest the manifest records
 * for each of them.
 */
public final class ModelFiles {

    /** The decoder with KV cache, under {@link OnnxNames}. */
    public static final String MODEL = "model.onnx";
    /** The tokenizer in HuggingFace format; absent when the model was trained with a built-in encoding. */
    public static final String TOKENIZER = "tokenizer.json";
    /** The manifest, {@link ModelManifest}. */
    public static final String MANIFEST = "model.json";
    /** The same model described for onnxruntime-genai. */
    public static final String GENAI_CONFIG = "genai_config.json";
    /** What a HuggingFace Optimum export has instead of {@link #MANIFEST}. */
    public static final String HF_CONFIG = "config.json";
    /** HuggingFace's generation defaults beside config.json; its eos_token_id may list several ids. */
    public static final String HF_GENERATION_CONFIG = "generation_config.json";
    /** The training metrics up to the exported step: a CSV row per step and per evaluation. */
    public static final String METRICS = "metrics.csv";
    /** Those metrics drawn: train and validation loss by step. */
    public static final String LOSS_CURVE = "loss.png";

    private ModelFiles() {}

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Lower-case hex SHA-256 of a file's bytes, the form {@link ModelManifest#files()} and {@code ModelPublished} use. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
