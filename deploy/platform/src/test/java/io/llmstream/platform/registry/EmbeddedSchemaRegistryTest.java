package io.llmstream.platform.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.platform.EmbeddedKafka;
import io.llmstream.schemas.registry.CompatibilityLevel;
import io.llmstream.schemas.registry.HttpSchemaRegistryClient;
import io.llmstream.schemas.registry.RegisteredSchema;
import io.llmstream.schemas.registry.SchemaRegistryClient;
import io.llmstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.SplittableRandom;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EmbeddedSchemaRegistryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema V1 = SchemaBuilder.record("Greeting").namespace("io.llmstream.test").fields()
            .requiredString("text")
            .endRecord();
    private static final Schema V2_OPTIONAL = SchemaBuilder.record("Greeting").namespace("io.llmstream.test").fields()
            .requiredString("text")
            .name("lang").type().stringType().stringDefault("en")
            .endRecord();
    private static final Schema V2_REQUIRED = SchemaBuilder.record("Greeting").namespace("io.llmstream.test").fields()
            .requiredString("text")
            .requiredInt("priority")
            .endRecord();

    private static EmbeddedKafka kafka;
    private EmbeddedSchemaRegistry registry;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @BeforeEach
    void startRegistry() {
        registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers());
    }

    @AfterEach
    void stopRegistry() {
        registry.close();
    }

    /** A fresh client each time, so that answers come from the server and not from a client cache. */
    private SchemaRegistryClient client() {
        return HttpSchemaRegistryClient.builder(registry.url()).maxAttempts(1).build();
    }

    @Test
    void registersAndServesSchemasByIdSubjectAndVersion() {
        int id = client().register("greetings-value", V1);

        assertThat(client().getById(id)).isEqualTo(V1);
        assertThat(client().subjects()).contains("greetings-value");
        assertThat(client().versions("greetings-value")).containsExactly(1);
        assertThat(client().latest("greetings-value")).isEqualTo(new RegisteredSchema("greetings-value", 1, id, V1));
        assertThat(client().lookup("greetings-value", V1).id()).isEqualTo(id);
    }

    @Test
    void registeringTheSameSchemaAgainReturnsTheSameIdAndNoNewVersion() {
        int first = client().register("again-value", V1);
        int second = client().register("again-value", V1);
        int otherSubject = client().register("again-key", V1);

        assertThat(second).isEqualTo(first);
        assertThat(otherSubject).as("an identical schema keeps one global id").isEqualTo(first);
        assertThat(client().versions("again-value")).containsExactly(1);
    }

    @Test
    void refusesAnIncompatibleChangeWith409AndAcceptsACompatibleOne() {
        SchemaRegistryClient client = client();
        client.register("evolving-value", V1);

        assertThat(client.isCompatible("evolving-value", V2_REQUIRED)).isFalse();
        assertThatThrownBy(() -> client.register("evolving-value", V2_REQUIRED))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(409);
                });

        assertThat(client.isCompatible("evolving-value", V2_OPTIONAL)).isTrue();
        int v2 = client.register("evolving-value", V2_OPTIONAL);
        assertThat(client.latest("evolving-value").version()).isEqualTo(2);
        assertThat(client.latest("evolving-value").id()).isEqualTo(v2);
    }

    @Test
    void answersUnknownSubjectsAndSchemasWithConfluentErrors() throws Exception {
        assertThatThrownBy(() -> client().latest("nobody-value"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(40401);
                });
        assertThatThrownBy(() -> client().getById(99_999))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));

        HttpResponse<String> missing = http("GET", "/subjects/nobody-value/versions", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/vnd.schemaregistry.v1+json");
        JsonNode error = JSON.readTree(missing.body());
        assertThat(error.path("error_code").asInt()).isEqualTo(40401);
        assertThat(error.path("message").asText()).contains("nobody-value");

        HttpResponse<String> invalid = http("POST", "/subjects/broken-value/versions", "{\"schema\":\"{not avro\"}");
        assertThat(invalid.statusCode()).isEqualTo(422);
        assertThat(JSON.readTree(invalid.body()).path("error_code").asInt()).isEqualTo(42201);
    }

    @Test
    void readsAndSetsGlobalAndSubjectCompatibility() {
        SchemaRegistryClient client = client();
        assertThat(client.compatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);

        client.setCompatibility("configured-value", CompatibilityLevel.FULL);
        assertThat(client.compatibility("configured-value")).isEqualTo(CompatibilityLevel.FULL);
        assertThat(client.compatibility("unconfigured-value")).isEqualTo(CompatibilityLevel.BACKWARD);

        client.setCompatibility(null, CompatibilityLevel.NONE);
        try {
            assertThat(client().compatibility(null)).isEqualTo(CompatibilityLevel.NONE);
            assertThat(client().compatibility("unconfigured-value")).isEqualTo(CompatibilityLevel.NONE);
            assertThat(client().compatibility("configured-value")).isEqualTo(CompatibilityLevel.FULL);
        } finally {
            client.setCompatibility(null, CompatibilityLevel.BACKWARD);
        }
    }

    @Test
    void idsVersionsAndLevelsSurviveARegistryRestart() {
        SchemaRegistryClient before = client();
        int v1 = before.register("durable-value", V1);
        int v2 = before.register("durable-value", V2_OPTIONAL);
        before.setCompatibility("durable-value", CompatibilityLevel.FORWARD);

        registry.close();
        registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers());

        SchemaRegistryClient after = client();
        assertThat(after.versions("durable-value")).containsExactly(1, 2);
        assertThat(after.latest("durable-value")).isEqualTo(new RegisteredSchema("durable-value", 2, v2, V2_OPTIONAL));
        assertThat(after.getById(v1)).isEqualTo(V1);
        assertThat(after.compatibility("durable-value")).isEqualTo(CompatibilityLevel.FORWARD);
        assertThat(after.register("durable-value", V1)).as("the same schema keeps its id").isEqualTo(v1);
        assertThat(after.register("durable-copy-value", V2_OPTIONAL)).isEqualTo(v2);

        Schema fresh = SchemaBuilder.record("Fresh").namespace("io.llmstream.test").fields().requiredLong("n").endRecord();
        assertThat(after.register("fresh-value", fresh)).as("new ids continue after the restored ones")
                .isGreaterThan(Math.max(v1, v2));
    }

    @Test
    void softAndPermanentDeletesAnswerAsConfluentDoes() throws Exception {
        // schemas of this test only: the broker, and so the registry's ids, are shared by the whole class
        Schema first = SchemaBuilder.record("Deletable").namespace("io.llmstream.test").fields().requiredString("a")
                .endRecord();
        Schema second = SchemaBuilder.record("Deletable").namespace("io.llmstream.test").fields().requiredString("a")
                .optionalString("b").endRecord();
        SchemaRegistryClient client = client();
        int v1 = client.register("deleting-value", first);
        int v2 = client.register("deleting-value", second);

        assertThat(http("DELETE", "/subjects/deleting-value/versions/1", null).body()).isEqualTo("1");
        assertThat(json("GET", "/subjects/deleting-value/versions")).isEqualTo(JSON.readTree("[2]"));
        assertThat(json("GET", "/subjects/deleting-value/versions?deleted=true")).isEqualTo(JSON.readTree("[1,2]"));
        assertError("GET", "/subjects/deleting-value/versions/1", 40402);
        assertThat(json("GET", "/subjects/deleting-value/versions/1?deleted=true").path("id").asInt()).isEqualTo(v1);
        assertThat(client().getById(v1)).as("a soft-deleted schema still decodes records").isEqualTo(first);
        assertError("POST", "/subjects/deleting-value", lookupBody(first), 40403);
        assertThat(http("POST", "/subjects/deleting-value?deleted=true", lookupBody(first)).statusCode()).isEqualTo(200);
        assertError("DELETE", "/subjects/deleting-value/versions/1", 40406);
        assertError("DELETE", "/subjects/deleting-value/versions/2?permanent=true", 40407);

        assertThat(http("DELETE", "/subjects/deleting-value/versions/1?permanent=true", null).body()).isEqualTo("1");
        assertThat(json("GET", "/subjects/deleting-value/versions?deleted=true")).isEqualTo(JSON.readTree("[2]"));
        assertError("GET", "/schemas/ids/" + v1, 40403);

        assertError("DELETE", "/subjects/deleting-value?permanent=true", 40405);
        assertThat(json("DELETE", "/subjects/deleting-value")).isEqualTo(JSON.readTree("[2]"));
        assertThat(client().subjects()).doesNotContain("deleting-value");
        assertThat(json("GET", "/subjects?deleted=true").toString()).contains("\"deleting-value\"");
        assertError("GET", "/subjects/deleting-value/versions", 40401);
        assertError("DELETE", "/subjects/deleting-value", 40404);
        assertThat(json("DELETE", "/subjects/deleting-value?permanent=true")).isEqualTo(JSON.readTree("[2]"));
        assertThat(json("GET", "/subjects?deleted=true").toString()).doesNotContain("\"deleting-value\"");

        // ids are never given to another schema: the same schema registered again gets its old id back
        assertThat(client().register("deleting-value", second)).isEqualTo(v2);
        assertThat(client().versions("deleting-value")).containsExactly(1);
    }

    @Test
    void deletesSurviveARegistryRestart() throws Exception {
        SchemaRegistryClient client = client();
        int v1 = client.register("restarted-value", V1);
        client.register("restarted-value", V2_OPTIONAL);
        Schema third = SchemaBuilder.record("Greeting").namespace("io.llmstream.test").fields()
                .requiredString("text").optionalString("lang").optionalInt("n").endRecord();
        client.register("restarted-value", third);
        http("DELETE", "/subjects/restarted-value/versions/2", null);
        http("DELETE", "/subjects/restarted-value/versions/3", null);
        http("DELETE", "/subjects/restarted-value/versions/3?permanent=true", null);

        registry.close();
        registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers());

        assertThat(client().versions("restarted-value")).containsExactly(1);
        assertThat(json("GET", "/subjects/restarted-value/versions?deleted=true")).isEqualTo(JSON.readTree("[1,2]"));
        assertThat(client().getById(v1)).isEqualTo(V1);
    }

    @Test
    void servesSchemaTypesTheVersionsOfAnIdAndABareSchema() throws Exception {
        Schema shared = SchemaBuilder.record("Shared").namespace("io.llmstream.test").fields().requiredLong("n")
                .endRecord();
        SchemaRegistryClient client = client();
        int id = client.register("first-user-value", shared);
        client.register("second-user-value", shared);

        assertThat(json("GET", "/schemas/types")).isEqualTo(JSON.readTree("[\"AVRO\"]"));
        assertThat(json("GET", "/schemas/ids/" + id + "/versions")).isEqualTo(JSON.readTree(
                "[{\"subject\":\"first-user-value\",\"version\":1},{\"subject\":\"second-user-value\",\"version\":1}]"));
        assertThat(json("GET", "/schemas/ids/" + id + "/subjects"))
                .isEqualTo(JSON.readTree("[\"first-user-value\",\"second-user-value\"]"));
        assertThat(new Schema.Parser().parse(http("GET", "/subjects/first-user-value/versions/1/schema", null).body()))
                .isEqualTo(shared);
        assertThat(new Schema.Parser().parse(http("GET", "/subjects/first-user-value/versions/latest/schema", null)
                .body())).isEqualTo(shared);
        assertError("GET", "/schemas/ids/" + (id + 1000) + "/versions", 40403);
    }

    @Test
    void aSchemaWithReferencesResolvesThemAndIsServedSelfContained() throws Exception {
        Schema address = SchemaBuilder.record("Address").namespace("io.llmstream.refs").fields()
                .requiredString("city").endRecord();
        client().register("address-value", address);
        String customer = "{\"type\":\"record\",\"name\":\"Customer\",\"namespace\":\"io.llmstream.refs\","
                + "\"fields\":[{\"name\":\"home\",\"type\":\"io.llmstream.refs.Address\"}]}";
        String body = JSON.writeValueAsString(JSON.createObjectNode().put("schema", customer).set("references",
                JSON.readTree("[{\"name\":\"io.llmstream.refs.Address\",\"subject\":\"address-value\",\"version\":1}]")));

        HttpResponse<String> registered = http("POST", "/subjects/customer-value/versions", body);
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
        int id = JSON.readTree(registered.body()).path("id").asInt();
        Schema served = client().getById(id);
        assertThat(served.getField("home").schema()).isEqualTo(address);
        assertThat(http("POST", "/subjects/customer-value", body).statusCode()).as("looked up with its references")
                .isEqualTo(200);

        String dangling = body.replace("address-value", "nowhere-value");
        assertError("POST", "/subjects/other-customer-value/versions", dangling, 42201);
        assertError("POST", "/subjects/other-customer-value/versions",
                JSON.writeValueAsString(JSON.createObjectNode().put("schema", customer)), 42201);
    }

    /**
     * Seeded fuzzing over real HTTP: malformed and mutated JSON, random bytes, wrong content types, unknown paths and
     * methods, an oversized body. Every answer is a Confluent error with a 4xx status (never a 500, a hang or a
     * dropped connection), and the registry still serves afterwards (what the fuzz did register stays registered).
     */
    @Test
    void badRequestsOfEveryKindGetAClientError() throws Exception {
        String valid = lookupBody(V1);
        String[] paths = {"/subjects/fuzz-value/versions", "/subjects/fuzz-value", "/compatibility/subjects/fuzz-value"
                + "/versions/latest", "/config", "/config/fuzz-value", "/subjects/fuzz-value/versions/1",
                "/schemas/ids/1", "/schemas/ids/x/versions", "/nowhere", "/subjects/%ZZ", "/subjects/fuzz-value/versions/0"};
        String[] methods = {"POST", "PUT", "GET", "DELETE", "PATCH"};
        SplittableRandom random = new SplittableRandom(7);
        int tried = 0;
        HttpClient http = HttpClient.newHttpClient();
        for (; tried < 400; tried++) { // about 40 ms a request over loopback here
            String body = switch (random.nextInt(5)) {
                case 0 -> valid.substring(0, random.nextInt(valid.length())); // cut short
                case 1 -> { // a character replaced
                    char[] chars = valid.toCharArray();
                    chars[random.nextInt(chars.length)] = (char) random.nextInt(32, 127);
                    yield new String(chars);
                }
                case 2 -> random.ints(random.nextInt(1, 64), 0, 0xD7FF).collect(StringBuilder::new,
                        StringBuilder::appendCodePoint, StringBuilder::append).toString();
                case 3 -> "{\"schema\":" + random.nextInt() + ",\"schemaType\":\"" + random.nextInt() + "\"}";
                default -> "{\"compatibility\":\"" + random.nextLong() + "\",\"references\":[{\"subject\":7}]}";
            };
            String path = paths[random.nextInt(paths.length)];
            String method = methods[random.nextInt(methods.length)];
            HttpRequest request = HttpRequest.newBuilder(URI.create(registry.url() + path.replace("%ZZ", "%25ZZ")))
                    .header("Content-Type", random.nextBoolean() ? "text/plain" : "application/octet-stream")
                    .method(method, HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(method + " " + path + " " + body + " -> " + response.body())
                    .isBetween(200, 499);
            if (response.statusCode() >= 400) {
                assertThat(JSON.readTree(response.body()).path("error_code").asInt()).isPositive();
            }
        }
        HttpResponse<String> huge = http("POST", "/subjects/fuzz-value/versions",
                "{\"schema\":\"" + "x".repeat(RegistryHttpHandler.MAX_BODY_BYTES) + "\"}");
        assertThat(huge.statusCode()).isEqualTo(413);
        System.out.printf("registry fuzz: %d requests and one of %d MiB, all answered 2xx-4xx%n", tried + 1,
                RegistryHttpHandler.MAX_BODY_BYTES >> 20);
        assertThat(client().register("after-fuzz-value", V1)).isPositive();
    }

    private static String lookupBody(Schema schema) throws IOException {
        return JSON.writeValueAsString(JSON.createObjectNode().put("schema", schema.toString()));
    }

    private JsonNode json(String method, String path) throws Exception {
        HttpResponse<String> response = http(method, path, null);
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private void assertError(String method, String path, int errorCode) throws Exception {
        assertError(method, path, null, errorCode);
    }

    private void assertError(String method, String path, String body, int errorCode) throws Exception {
        HttpResponse<String> response = http(method, path, body);
        assertThat(response.statusCode()).as(method + " " + path).isEqualTo(errorCode / 100);
        assertThat(JSON.readTree(response.body()).path("error_code").asInt()).as(method + " " + path)
                .isEqualTo(errorCode);
    }

    private HttpResponse<String> http(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(registry.url() + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }
}
