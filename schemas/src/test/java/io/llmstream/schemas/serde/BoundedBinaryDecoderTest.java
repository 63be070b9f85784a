package io.llmstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

class BoundedBinaryDecoderTest {
    private static final Schema POINT = SchemaBuilder.record("Point").fields()
            .requiredDouble("x").requiredFloat("y").endRecord();
    private static final Schema EVERY_TYPE = SchemaBuilder.record("EveryType").namespace("t").fields()
            .name("n").type().nullType().noDefault()
            .requiredBoolean("yes")
            .requiredBoolean("no")
            .requiredInt("intMin")
            .requiredInt("intMax")
            .requiredLong("longMin")
            .requiredLong("longMax")
            .requiredFloat("f")
            .requiredDouble("d")
            .requiredBytes("bytes")
            .requiredString("text")
            .name("fixed").type().fixed("Four").size(4).noDefault()
            .name("colour").type().enumeration("Colour").symbols("RED", "GREEN", "BLUE").noDefault()
            .name("longs").type().array().items().longType().noDefault()
            .name("tags").type().map().values().stringType().noDefault()
            .optionalString("maybe")
            .optionalString("absent")
            .name("points").type().array().items(POINT).noDefault()
            .endRecord();

    @Test
    void decodesEveryAvroTypeAsAvroEncodedIt() throws IOException {
        GenericRecord record = everyType();
        assertThat(encode(record, true)).as("block-size form differs").isNotEqualTo(encode(record, false));
        for (boolean blocking : new boolean[] {false, true}) {
            byte[] bytes = encode(record, blocking);
            BoundedBinaryDecoder decoder = new BoundedBinaryDecoder(bytes, 0, bytes.length);

            GenericRecord decoded = new GenericDatumReader<GenericRecord>(EVERY_TYPE).read(null, decoder);

            assertThat(decoded).as("blocking=" + blocking).isEqualTo(record);
            assertThat(decoder.remaining()).isZero();
        }
    }

    @Test
    void skipsWriterOnlyFieldsWhenResolving() throws IOException {
        Schema reader = SchemaBuilder.record("EveryType").namespace("t").fields()
                .requiredString("text").requiredInt("intMax").endRecord();
        for (boolean blocking : new boolean[] {false, true}) {
            byte[] bytes = encode(everyType(), blocking);
            BoundedBinaryDecoder decoder = new BoundedBinaryDecoder(bytes, 0, bytes.length);

            GenericRecord decoded = new GenericDatumReader<GenericRecord>(EVERY_TYPE, reader).read(null, decoder);

            assertThat(decoded.get("text")).isEqualTo(new Utf8("grüße ✓"));
            assertThat(decoded.get("intMax")).isEqualTo(Integer.MAX_VALUE);
            assertThat(decoder.remaining()).isZero();
        }
    }

    @Test
    void readsASliceOfALargerArray() throws IOException {
        byte[] payload = {(byte) 0xEE, 0x02, 'x', (byte) 0xEE}; // garbage, the string "x", garbage
        BoundedBinaryDecoder decoder = new BoundedBinaryDecoder(payload, 1, 2);

        assertThat(decoder.readString()).isEqualTo("x");
        assertThat(decoder.remaining()).isZero();
        assertThatThrownBy(decoder::readInt).isInstanceOf(EOFException.class);
    }

    @Test
    void rejectsCorruptPrimitives() {
        assertThatThrownBy(() -> decoder(2).readBoolean()).hasMessageContaining("invalid boolean byte 0x2");
        assertThatThrownBy(() -> decoder(0xff, 0xff, 0xff, 0xff, 0x7f).readInt()).hasMessageContaining("32 bits");
        assertThatThrownBy(() -> decoder(0xff, 0xff, 0xff, 0xff, 0xff, 0x01).readInt())
                .hasMessageContaining("longer than 5 bytes");
        assertThatThrownBy(() -> decoder(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).readLong())
                .hasMessageContaining("longer than 10 bytes");
        assertThatThrownBy(() -> decoder(0x80).readLong()).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> decoder(1, 2, 3).readFloat()).isInstanceOf(EOFException.class).hasMessageContaining("float");
        assertThatThrownBy(() -> decoder(0x01).readString()).hasMessageContaining("negative string length");
        assertThatThrownBy(() -> decoder(0x08, 'a', 'b').readBytes(null)).hasMessageContaining("bytes length 4");
        assertThatThrownBy(() -> decoder(0x08).readFixed(new byte[4], 0, 4)).isInstanceOf(EOFException.class);
    }

    @Test
    void refusesCollectionsLongerThanTheBytesLeft() {
        // count 3, then only 2 bytes: items of every type but null take at least one byte
        assertThatThrownBy(() -> decoder(0x06, 0x02, 0x02).readArrayStart())
                .hasMessageContaining("array block claims 3 items but only 2 bytes are left");
        assertThatThrownBy(() -> decoder(0x05, 0x02, 0x02).readMapStart()) // count -3 with a byte size
                .hasMessageContaining("map block claims 3 items");
        assertThatThrownBy(() -> decoder(0x01, 0x7e).skipArray()) // block of -1 items claiming 63 bytes
                .hasMessageContaining("block size 63");
    }

    private static BoundedBinaryDecoder decoder(int... bytes) {
        byte[] buf = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            buf[i] = (byte) bytes[i];
        }
        return new BoundedBinaryDecoder(buf, 0, buf.length);
    }

    private static GenericRecord everyType() {
        Schema four = EVERY_TYPE.getField("fixed").schema();
        Schema colour = EVERY_TYPE.getField("colour").schema();
        return new GenericRecordBuilder(EVERY_TYPE)
                .set("n", null)
                .set("yes", true)
                .set("no", false)
                .set("intMin", Integer.MIN_VALUE)
                .set("intMax", Integer.MAX_VALUE)
                .set("longMin", Long.MIN_VALUE)
                .set("longMax", Long.MAX_VALUE)
                .set("f", -1.5e-7f)
                .set("d", Math.PI)
                .set("bytes", ByteBuffer.wrap(new byte[] {0, -1, 127, -128}))
                .set("text", new Utf8("grüße ✓"))
                .set("fixed", new GenericData.Fixed(four, new byte[] {1, 2, 3, 4}))
                .set("colour", new GenericData.EnumSymbol(colour, "BLUE"))
                .set("longs", new GenericData.Array<>(EVERY_TYPE.getField("longs").schema(),
                        List.of(0L, -1L, 1L << 40, Long.MIN_VALUE)))
                .set("tags", Map.of(new Utf8("k1"), new Utf8("v1"), new Utf8("k2"), new Utf8("")))
                .set("maybe", new Utf8("here"))
                .set("absent", null)
                .set("points", new GenericData.Array<>(EVERY_TYPE.getField("points").schema(), List.of(
                        new GenericRecordBuilder(POINT).set("x", 1.0).set("y", 2f).build(),
                        new GenericRecordBuilder(POINT).set("x", -0.0).set("y", Float.MAX_VALUE).build())))
                .build();
    }

    /** Plain Avro binary, optionally with the block-size form of arrays and maps (negative counts). */
    private static byte[] encode(GenericRecord record, boolean blocking) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Encoder encoder = blocking
                ? new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null)
                : EncoderFactory.get().directBinaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
