package io.llmstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.llmstream.schemas.SampleRecords;
import io.llmstream.schemas.registry.InMemorySchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the deserializer, which reads bytes from outside: valid records of every schema mutated (bits
 * flipped, bytes overwritten, cut, inserted, lengths inflated) and random payloads behind a valid header. Every input
 * either decodes or raises a {@link SerializationException}; nothing else escapes, nothing hangs, no allocation runs
 * past what the payload could hold (an inflated length would otherwise ask for gigabytes).
 */
class AvroFuzzTest {
    private static final int MUTATIONS_PER_RECORD = 3_000;
    private static final int RANDOM_PAYLOADS = 5_000;

    @Test
    void mutatedAndRandomPayloadsDecodeOrFailCleanly() {
        SchemaRegistryClient client = new InMemorySchemaRegistryClient();
        AvroSerializer<SpecificRecord> serializer = new AvroSerializer<>(client, false);
        AvroDeserializer<GenericRecord> deserializer = AvroDeserializer.generic(client);
        SplittableRandom random = new SplittableRandom(20261203);
        int[] outcomes = new int[2]; // decoded, refused
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            for (Map.Entry<String, SpecificRecord> sample : SampleRecords.all().entrySet()) {
                byte[] valid = serializer.serialize("fuzz-" + sample.getKey().replace(' ', '-'), sample.getValue());
                for (int i = 0; i < MUTATIONS_PER_RECORD; i++) {
                    outcomes[decode(deserializer, mutate(valid, random))]++;
                }
                for (int i = 0; i < RANDOM_PAYLOADS / SampleRecords.all().size(); i++) {
                    byte[] payload = new byte[5 + random.nextInt(64)];
                    random.nextBytes(payload);
                    System.arraycopy(valid, 0, payload, 0, 5); // the sample's header: the schema is known
                    outcomes[decode(deserializer, payload)]++;
                }
            }
        });
        int tried = outcomes[0] + outcomes[1];
        System.out.printf("AvroFuzzTest: %d inputs, %d decoded, %d refused with a SerializationException%n", tried,
                outcomes[0], outcomes[1]);
        assertThat(tried).isGreaterThanOrEqualTo(SampleRecords.all().size() * MUTATIONS_PER_RECORD);
        assertThat(outcomes[1]).as("most mutations are refused").isGreaterThan(tried / 4);
    }

    /** 0 when the payload decoded, 1 when it was refused as it should be; anything else fails the test. */
    private static int decode(AvroDeserializer<GenericRecord> deserializer, byte[] payload) {
        try {
            deserializer.deserialize("fuzz", payload);
            return 0;
        } catch (SerializationException e) {
            assertThat(e.getMessage()).startsWith("Cannot deserialize").doesNotContain("\n");
            return 1;
        }
    }

    private static byte[] mutate(byte[] valid, SplittableRandom random) {
        byte[] out = valid.clone();
        switch (random.nextInt(5)) {
            case 0 -> { // flip a few bits after the header
                for (int n = 1 + random.nextInt(4); n > 0; n--) {
                    int at = 5 + random.nextInt(out.length - 5);
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> out[5 + random.nextInt(out.length - 5)] = (byte) random.nextInt(256);
            case 2 -> out = Arrays.copyOf(out, 5 + random.nextInt(out.length - 5)); // cut short
            case 3 -> { // bytes inserted in the middle
                int at = 5 + random.nextInt(out.length - 5);
                byte[] extra = new byte[1 + random.nextInt(8)];
                random.nextBytes(extra);
                byte[] grown = new byte[out.length + extra.length];
                System.arraycopy(out, 0, grown, 0, at);
                System.arraycopy(extra, 0, grown, at, extra.length);
                System.arraycopy(out, at, grown, at + extra.length, out.length - at);
                out = grown;
            }
            default -> { // a huge varint where a length or count may be: 0xff... then a terminating byte
                int at = 5 + random.nextInt(out.length - 5);
                for (int k = 0; k < 4 && at + k < out.length; k++) {
                    out[at + k] = (byte) 0xfe;
                }
                if (at + 4 < out.length) {
                    out[at + 4] = 0x0f;
                }
            }
        }
        return out;
    }
}
