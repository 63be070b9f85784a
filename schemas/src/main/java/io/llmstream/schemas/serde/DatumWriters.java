package io.llmstream.schemas.serde;

import io.llmstream.schemas.IntLists;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
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
        for (int id : ids) {
            out.startItem();
            out.writeInt(id);
        }
        out.writeArrayEnd();
        return true;
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
