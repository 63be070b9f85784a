package io.llmstream.inference.model;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.platform.Fp16Conversions;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The element type of a graph's floating-point I/O (its KV cache, its logits): float32 as exported, or the float16 /
 * bfloat16 of most downloadable exports. The cache is kept in the graph's own type, so nothing is converted between
 * steps; logits are widened to float32 once per pass, for sampling.
 */
public enum Precision {
    FLOAT32(OnnxJavaType.FLOAT, Float.BYTES),
    FLOAT16(OnnxJavaType.FLOAT16, 2),
    BFLOAT16(OnnxJavaType.BFLOAT16, 2);

    final OnnxJavaType type;
    /** Bytes per element. */
    final int bytes;

    Precision(OnnxJavaType type, int bytes) {
        this.type = type;
        this.bytes = bytes;
    }

    /** The precision of an ONNX tensor type, or null for a type that is not one of these. */
    static Precision of(OnnxJavaType type) {
        for (Precision p : values()) {
            if (p.type == type) {
                return p;
            }
        }
        return null;
    }

    /** Widens {@code count} elements of this precision from {@code from} (native order) into {@code to}. */
    void widen(ByteBuffer from, FloatBuffer to, int count) {
        switch (this) {
            case FLOAT32 -> to.put(0, from.asFloatBuffer(), 0, count);
            case FLOAT16 -> {
                float[] table = Half.TABLE;
                for (int i = 0; i < count; i++) {
                    to.put(i, table[from.getShort(2 * i) & 0xFFFF]);
                }
            }
            case BFLOAT16 -> {
                for (int i = 0; i < count; i++) {
                    to.put(i, Float.intBitsToFloat((from.getShort(2 * i) & 0xFFFF) << 16));
                }
            }
        }
    }

    /** Every float16 value as a float (256 KiB), built on first use with ONNX Runtime's own conversion. */
    private static final class Half {
        static final float[] TABLE = new float[1 << 16];

        static {
            for (int bits = 0; bits < TABLE.length; bits++) {
                TABLE[bits] = Fp16Conversions.fp16ToFloat((short) bits);
            }
        }
    }
}
