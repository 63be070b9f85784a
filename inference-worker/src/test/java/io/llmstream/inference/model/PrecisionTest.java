package io.llmstream.inference.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class PrecisionTest {
    @Test
    void float16AndBfloat16WidenToTheFloatsTheirBitsSpell() {
        assertThat(widen(Precision.FLOAT16, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0xFC00))
                .containsExactly(1f, -2f, 65504f, 0x1p-24f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
        assertThat(widen(Precision.FLOAT16, 0x7E00)[0]).isNaN();
        assertThat(widen(Precision.BFLOAT16, 0x3F80, 0xC040, 0x0000, 0x7F80))
                .containsExactly(1f, -3f, 0f, Float.POSITIVE_INFINITY);
    }

    @Test
    void float32IsCopiedAndTypesMapBothWays() {
        ByteBuffer bytes = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(0, 1.5f).put(1, -7.25f);
        FloatBuffer out = FloatBuffer.allocate(2);
        Precision.FLOAT32.widen(bytes, out, 2);
        assertThat(out.array()).containsExactly(1.5f, -7.25f);
        for (Precision p : Precision.values()) {
            assertThat(Precision.of(p.type)).isSameAs(p);
        }
        assertThat(Precision.of(OnnxJavaType.INT64)).isNull();
    }

    private static float[] widen(Precision precision, int... bits) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(2 * bits.length).order(ByteOrder.nativeOrder());
        for (int i = 0; i < bits.length; i++) {
            bytes.putShort(2 * i, (short) bits[i]);
        }
        FloatBuffer out = FloatBuffer.allocate(bits.length);
        precision.widen(bytes, out, bits.length);
        return out.array();
    }
}
