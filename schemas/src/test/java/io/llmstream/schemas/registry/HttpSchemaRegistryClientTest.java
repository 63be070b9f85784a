package io.llmstream.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.llmstream.schemas.Document;
import io.llmstream.schemas.registry.CannedRegistryServer.Request;
import io.llmstream.schemas.registry.CannedRegistryServer.Response;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpSchemaRegistryClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema DOCUMENT = Document.getClassSchema();

    private final CannedRegistryServer server;

    HttpSchemaRegistryClientTest() throws Exception {
        server = new CannedRegistryServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpSchemaRegistryClient client() {
        return HttpSchemaRegistryClient.builder(server.url()).maxAttempts(3)
                .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(5)).build();
    }

    @Test
    void registerPostsTheSchemaWithConfluentMediaTypeAndCachesTheId() throws Exception {
        server.respond(r -> new Response(200, "{\"id\":7}"));
        HttpSchemaRegistryClient client = client();

        assertThat(client.register("documents-value", DOCUMENT)).isEqualTo(7);
        assertThat(client.register("documents-value", DOCUMENT)).isEqualTo(7);
        assertThat(client.getById(7)).isEqualTo(DOCUMENT); // known from the registration

        assertThat(server.requests()).hasSize(1);
        Request request = server.requests().get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.target()).isEqualTo("/subjects/documents-value/versions");
        assertThat(request.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
        assertThat(request.accept()).isEqualTo("application/vnd.schemaregistry.v1+json");
        assertThat(request.authorization()).isNull();
        assertThat(new Schema.Parser().parse(JSON.readTree(request.body()).get("schema").asText())).isEqualTo(DOCUMENT);
    }

    @Test
    void subjectsAreEncodedAsOnePathSegment() {
        server.respond(r -> new Response(200, "[3,1,2]"));

        assertThat(client().versions("my topic/ü-value")).containsExactly(1, 2, 3);
        assertThat(server.requests().get(0).target()).isEqualTo("/subjects/my%20topic%2F%C3%BC-value/versions");
    }

    @Test
    void getByIdParsesAndCachesTheSchema() {
        server.respond(r -> new Response(200, JSON.createObjectNode().put("schema", DOCUMENT.toString()).toString()));
        HttpSchemaRegistryClient client = client();

        assertThat(client.getById(12)).isEqualTo(DOCUMENT);
        assertThat(client.getById(12)).isEqualTo(DOCUMENT);
        assertThat(server.requests()).extracting(Request::method, Request::target)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("GET", "/schemas/ids/12"));
    }

    @Test
    void lookupLatestAndSubjectsParseConfluentAnswers() {
        String registered = JSON.createObjectNode().put("subject", "documents-value").put("id", 4).put("version", 2)
                .put("schema", DOCUMENT.toString()).toString();
        server.respond(r -> switch (r.target()) {
            case "/subjects" -> new Response(200, "[\"tokens-value\",\"documents-value\"]");
            default -> new Response(200, registered);
        });
        HttpSchemaRegistryClient client = client();

        assertThat(client.lookup("documents-value", DOCUMENT))
                .isEqualTo(new RegisteredSchema("documents-value", 2, 4, DOCUMENT));
        assertThat(client.latest("documents-value")).isEqualTo(new RegisteredSchema("documents-value", 2, 4, DOCUMENT));
        assertThat(client.subjects()).containsExactly("documents-value", "tokens-value");
        assertThat(client.register("documents-value", DOCUMENT)).isEqualTo(4); // cached by the lookup
        assertThat(server.requests()).extracting(Request::method, Request::target).containsExactly(
                org.assertj.core.groups.Tuple.tuple("POST", "/subjects/documents-value"),
                org.assertj.core.groups.Tuple.tuple("GET", "/subjects/documents-value/versions/latest"),
                org.assertj.core.groups.Tuple.tuple("GET", "/subjects"));
    }

    @Test
    void retriesA503AndThenSucceeds() {
        AtomicInteger calls = new AtomicInteger();
        server.respond(r -> calls.incrementAndGet() == 1
                ? new Response(503, "{\"error_code\":50003,\"message\":\"Error while forwarding the request\"}")
                : new Response(200, "{\"id\":3}"));

        assertThat(client().register("documents-value", DOCUMENT)).isEqualTo(3);
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void givesUpAfterMaxAttemptsOn5xxWithTheLastStatus() {
        server.respond(r -> new Response(500, "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}"));

        assertThatThrownBy(() -> client().getById(9))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(500);
                    assertThat(e.errorCode()).isEqualTo(50001);
                })
                .hasMessageContaining("schema id 9")
                .hasMessageContaining("backend data store");
        assertThat(server.requests()).hasSize(3);
    }

    @Test
    void neverRetriesA4xxAndNamesSubjectStatusAndCode() {
        server.respond(r -> new Response(404, "{\"error_code\":40401,\"message\":\"Subject 'documents-value' not found.\"}"));

        assertThatThrownBy(() -> client().latest("documents-value"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(40401);
                })
                .hasMessageContaining("subject 'documents-value'")
                .hasMessageContaining("HTTP 404")
                .hasMessageContaining("40401");
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void incompatibleRegistrationIsA409() {
        server.respond(r -> new Response(409,
                "{\"error_code\":409,\"message\":\"Schema being registered is incompatible with an earlier schema\"}"));

        assertThatThrownBy(() -> client().register("documents-value", DOCUMENT))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(409))
                .hasMessageContaining("documents-value")
                .hasMessageContaining("incompatible");
    }

    @Test
    void aNonJsonErrorBodyBecomesTheMessage() {
        server.respond(r -> new Response(403, "<html>Forbidden by proxy</html>"));

        assertThatThrownBy(() -> client().subjects())
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(403))
                .hasMessageContaining("Forbidden by proxy");
    }

    @Test
    void sendsBasicAuthFromConfigOrFromTheUrl() {
        server.respond(r -> new Response(200, "[]"));
        String expected = "Basic " + Base64.getEncoder().encodeToString("alice:s3cr3t".getBytes(StandardCharsets.UTF_8));

        HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", server.url(),
                "basic.auth.user.info", "alice:s3cr3t")).subjects();
        HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url",
                server.url().replace("http://", "http://alice:s3cr3t@"))).subjects();

        assertThat(server.requests()).extracting(Request::authorization).containsExactly(expected, expected);
    }

    @Test
    void failsOverToTheNextUrlWhenOneCannotBeReached() throws Exception {
        server.respond(r -> new Response(200, "[\"documents-value\"]"));
        SchemaRegistryClient client = HttpSchemaRegistryClient.fromConfig(Map.of(
                "schema.registry.url", "http://127.0.0.1:" + closedPort() + " , " + server.url(),
                "schema.registry.max.attempts", "1"));

        assertThat(client.subjects()).containsExactly("documents-value");
        assertThat(client.subjects()).containsExactly("documents-value");
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void anUnreachableRegistryIsStatusZeroAfterRetries() throws Exception {
        int port = closedPort();
        SchemaRegistryClient client = HttpSchemaRegistryClient.fromConfig(Map.of(
                "schema.registry.url", "http://127.0.0.1:" + port,
                "schema.registry.max.attempts", 2, "schema.registry.retry.backoff.ms", 1));

        assertThatThrownBy(() -> client.register("documents-value", DOCUMENT))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isZero())
                .hasMessageContaining("documents-value")
                .hasMessageContaining(String.valueOf(port));
    }

    @Test
    void compatibilityCheckAndConfigUseConfluentFieldNames() throws Exception {
        server.respond(r -> switch (r.method() + " " + r.target()) {
            case "POST /compatibility/subjects/documents-value/versions/latest" ->
                    new Response(200, "{\"is_compatible\":false}");
            case "POST /compatibility/subjects/new-value/versions/latest" ->
                    new Response(404, "{\"error_code\":40401,\"message\":\"Subject 'new-value' not found.\"}");
            case "GET /config/documents-value?defaultToGlobal=true" ->
                    new Response(200, "{\"compatibilityLevel\":\"FULL_TRANSITIVE\"}");
            case "GET /config/other-value?defaultToGlobal=true" ->
                    new Response(404, "{\"error_code\":40408,\"message\":\"Subject does not have subject-level compatibility configured\"}");
            case "GET /config" -> new Response(200, "{\"compatibilityLevel\":\"BACKWARD\"}");
            case "PUT /config", "PUT /config/documents-value" -> new Response(200, r.body());
            default -> new Response(500, "unexpected " + r.method() + " " + r.target());
        });
        HttpSchemaRegistryClient client = client();

        assertThat(client.isCompatible("documents-value", DOCUMENT)).isFalse();
        assertThat(client.isCompatible("new-value", DOCUMENT)).isTrue();
        assertThat(client.compatibility("documents-value")).isEqualTo(CompatibilityLevel.FULL_TRANSITIVE);
        assertThat(client.compatibility("other-value")).isEqualTo(CompatibilityLevel.BACKWARD);
        client.setCompatibility(null, CompatibilityLevel.NONE);
        client.setCompatibility("documents-value", CompatibilityLevel.FORWARD);

        List<Request> puts = server.requests().stream().filter(r -> r.method().equals("PUT")).toList();
        assertThat(puts).extracting(Request::target).containsExactly("/config", "/config/documents-value");
        assertThat(puts).extracting(r -> compatibilityIn(r.body())).containsExactly("NONE", "FORWARD");
        assertThat(puts).extracting(Request::contentType).containsOnly(HttpSchemaRegistryClient.CONTENT_TYPE);
    }

    @Test
    void rejectsBadConfig() {
        assertThatThrownBy(() -> HttpSchemaRegistryClient.fromConfig(Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "ftp://x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ftp://x");
        assertThatThrownBy(() -> HttpSchemaRegistryClient.fromConfig(Map.of("schema.registry.url", "http://x:1",
                "schema.registry.max.attempts", "many")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("schema.registry.max.attempts");
    }

    private static String compatibilityIn(String body) {
        try {
            return JSON.readTree(body).get("compatibility").asText();
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
