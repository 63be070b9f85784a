package io.llmstream.schemas.serde;

import io.llmstream.schemas.IntLists;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.BlockingBinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.Encoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro's datum writers with two changes: token-id arrays backed by an int[] ({@link IntLists#of}) are written straight
 * from the array, without boxing or per-element dispatch (the hot path of every token record), and strings with a lone
 * UTF-16 surrogate are written with U+FFFD where Java's encoder would write '?'.
 */
final class DatumWriters {
    private static final int CHUNK_IDS = 256;
    private static final ThreadLocal<byte[]> VARINTS = ThreadLocal.withInitial(() -> new byte[CHUNK_IDS * 5]);

    private DatumWriters() {}

    static <T> DatumWriter<T> forRecord(Schema schema, T record) {
        // Generated classes carry their own SpecificData (with logical-type conversions such as Instant).
        return record instanceof SpecificRecord
                ? new Specific<>(schema, SpecificData.getForClass(record.getClass()))
                : new Generic<>(schema);
    }

    /** Writes {@code datum} as an int array if it is one backed by int[]; false when Avro's own path must do it. */
    static boolean writeIntArray(Schema schema, Object datum, Encoder out) throws IOException {
        int[] ids = IntLists.backingArray(datum);
        if (ids == null || schema.getElementType().getType() != Schema.Type.INT) {
            return false;
        }
        out.writeArrayStart();
        out.setItemCount(ids.length);
        if (out instanceof BinaryEncoder binary && !(out instanceof BlockingBinaryEncoder)) {
            writeVarints(ids, binary);
        } else {
            for (int id : ids) {
                out.startItem();
                out.writeInt(id);
            }
        }
        out.writeArrayEnd();
        return true;
    }

    /**
     * The items of an Avro binary int array are their zig-zag varints one after another (a plain binary encoder's
     * startItem writes nothing), so a chunk of them is built here and handed over in one call instead of one per id.
     * Each varint is written without a branch on its length: all five possible bytes with the continuation bit, then
     * that bit cleared on the last byte of its length. Token ids take one, two or three bytes in no predictable order
     * (cl100k on English: 11%, 70%, 20%), which a loop stopping at the last byte mispredicts: 4.6 against 3.7 ns per id
     * on English, 7.4 against 3.4 on random ids.
     */
    private static void writeVarints(int[] ids, BinaryEncoder out) throws IOException {
        byte[] bytes = VARINTS.get();
        for (int i = 0; i < ids.length; ) {
            int end = Math.min(ids.length, i + CHUNK_IDS);
            int n = 0;
            for (; i < end; i++) {
                int zigzag = (ids[i] << 1) ^ (ids[i] >> 31);
                bytes[n] = (byte) (zigzag | 0x80);
                bytes[n + 1] = (byte) ((zigzag >>> 7) | 0x80);
                bytes[n + 2] = (byte) ((zigzag >>> 14) | 0x80);
                bytes[n + 3] = (byte) ((zigzag >>> 21) | 0x80);
                bytes[n + 4] = (byte) (zigzag >>> 28);
                n += 1 + (31 - Integer.numberOfLeadingZeros(zigzag | 1)) / 7; // 7 bits per byte
                bytes[n - 1] &= 0x7F;
            }
            out.writeFixed(bytes, 0, n);
        }
    }

    /**
     * A string with a lone UTF-16 surrogate has no UTF-8 form; Java's encoder would write '?'. We write U+FFFD instead,
     * the replacement character tiktoken uses, so text keeps the meaning "an unencodable character was here".
     */
    static Object replaceLoneSurrogates(Object datum) {
        if (!(datum instanceof String s)) {
            return datum;
        }
        StringBuilder fixed = null;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            if (fixed == null) {
                fixed = new StringBuilder(s);
            }
            fixed.setCharAt(i, '\uFFFD');
        }
        return fixed == null ? s : fixed.toString();
    }

    private static final class Specific<T> extends SpecificDatumWriter<T> {
        Specific(Schema schema, SpecificData data) {
            super(schema, data);
        }

        @Override
        protected void writeArray(Schema schema, Object datum, Encoder out) throws IOException {
            if (!writeIntArray(schema, datum, out)) {
                super.writeArray(schema, datum, out);
            }
        }

        @Override
        protected void writeString(Object datum, Encoder out) throws IOException {
            super.writeString(replaceLoneSurrogates(datum), out);
        }
    }

    private static final class Generic<T> extends GenericDatumWriter<T> {
        Generic(Schema schema) {
            super(schema, GenericData.get());
        }

        @Override
        protected void writeArray(Schema schema, Object datum, Encoder out) throws IOException {
            if (!writeIntArray(schema, datum, out)) {
                super.writeArray(schema, datum, out);
            }
        }

        @Override
        protected void writeString(Object datum, Encoder out) throws IOException {
            super.writeString(replaceLoneSurrogates(datum), out);
        }
    }
}
