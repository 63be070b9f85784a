package io.llmstream.platform.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.llmstream.schemas.registry.CompatibilityLevel;
import io.llmstream.schemas.registry.RegisteredSchema;
import io.llmstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Confluent schema-registry REST API over {@link DurableRegistry}: subjects, versions (with soft and permanent
 * deletes and {@code ?deleted=true} listings), schemas by id, their subject versions and types, compatibility checks
 * and config; Avro schemas only, references resolved at registration (see {@link #schemaOf}). Errors come back as Confluent does: {@code {"error_code":40401,"message":".."}}
 * with the matching HTTP status. Request bodies are read as JSON whatever their content type. Thread-safe.
 */
final class RegistryHttpHandler implements HttpHandler {
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    /** A schema is a few kilobytes; a body this large is refused before it is held in memory. */
    static final int MAX_BODY_BYTES = 8 << 20;

    private static final Logger log = LoggerFactory.getLogger(RegistryHttpHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DurableRegistry registry;

    RegistryHttpHandler(DurableRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        int status = 200;
        Object body;
        try {
            body = route(exchange.getRequestMethod(), segments(exchange), flags(exchange), exchange);
        } catch (SchemaRegistryException e) {
            status = e.httpStatus();
            body = error(e.errorCode(), e.getMessage());
        } catch (RuntimeException e) {
            log.error("Schema registry failed on {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            status = 500;
            body = error(50001, "Internal error: " + e.getMessage());
        }
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private Object route(String method, List<String> path, Set<String> flags, HttpExchange exchange)
            throws IOException {
        String first = path.isEmpty() ? "" : path.get(0);
        boolean deleted = flags.contains("deleted");
        boolean permanent = flags.contains("permanent");
        switch (first) {
            case "subjects" -> {
                if (path.size() == 1) {
                    expect(method, "GET");
                    return registry.read(state -> state.subjects(deleted));
                }
                String subject = path.get(1);
                if (path.size() == 2) {
                    if (method.equals("DELETE")) {
                        return registry.deleteSubject(subject, permanent).stream().map(RegisteredSchema::version)
                                .toList();
                    }
                    expect(method, "POST");
                    Schema schema = schemaOf(body(exchange));
                    return describe(registry.read(state -> state.lookup(subject, schema, deleted)));
                }
                if (path.size() == 3 && path.get(2).equals("versions")) {
                    if (method.equals("POST")) {
                        RegisteredSchema registered = registry.register(subject, schemaOf(body(exchange)));
                        return JSON.createObjectNode().put("id", registered.id());
                    }
                    expect(method, "GET");
                    return registry.read(state -> state.versions(subject, deleted));
                }
                if (path.size() == 4 && path.get(2).equals("versions")) {
                    if (method.equals("DELETE")) {
                        int number = version(subject, path.get(3), true).version();
                        return registry.deleteVersion(subject, number, permanent).version();
                    }
                    expect(method, "GET");
                    return describe(version(subject, path.get(3), deleted));
                }
                if (path.size() == 5 && path.get(2).equals("versions") && path.get(4).equals("schema")) {
                    expect(method, "GET");
                    return JSON.readTree(version(subject, path.get(3), deleted).schema().toString());
                }
            }
            case "schemas" -> {
                if (path.size() == 2 && path.get(1).equals("types")) {
                    expect(method, "GET");
                    return List.of("AVRO");
                }
                if (path.size() >= 3 && path.size() <= 4 && path.get(1).equals("ids")) {
                    expect(method, "GET");
                    int id = schemaId(path.get(2));
                    Schema schema = registry.read(state -> state.getById(id));
                    if (path.size() == 3) {
                        return JSON.createObjectNode().put("schema", schema.toString());
                    }
                    List<RegisteredSchema> uses = registry.read(state -> state.subjectVersions(id, deleted));
                    switch (path.get(3)) {
                        case "versions" -> {
                            ArrayNode versions = JSON.createArrayNode();
                            uses.forEach(r -> versions.addObject().put("subject", r.subject())
                                    .put("version", r.version()));
                            return versions;
                        }
                        case "subjects" -> {
                            return uses.stream().map(RegisteredSchema::subject).distinct().toList();
                        }
                        default -> { }
                    }
                }
            }
            case "compatibility" -> {
                if (path.size() == 5 && path.get(1).equals("subjects") && path.get(3).equals("versions")
                        && path.get(4).equals("latest")) {
                    expect(method, "POST");
                    String subject = path.get(2);
                    Schema schema = schemaOf(body(exchange));
                    boolean compatible = registry.read(state -> state.isCompatible(subject, schema));
                    return JSON.createObjectNode().put("is_compatible", compatible);
                }
            }
            case "config" -> {
                if (path.size() <= 2) {
                    String subject = path.size() == 2 ? path.get(1) : null;
                    if (method.equals("PUT")) {
                        CompatibilityLevel level = CompatibilityLevel.parse(body(exchange).path("compatibility").asText());
                        registry.setCompatibility(subject, level);
                        return JSON.createObjectNode().put("compatibility", level.name());
                    }
                    expect(method, "GET");
                    return JSON.createObjectNode().put("compatibilityLevel",
                            registry.read(state -> state.compatibility(subject)).name());
                }
            }
            default -> { }
        }
        throw new SchemaRegistryException("HTTP 404 Not Found", 404, 404);
    }

    private RegisteredSchema version(String subject, String version, boolean includeDeleted) {
        if (version.equals("latest") || version.equals("-1")) {
            return registry.read(state -> state.latest(subject));
        }
        try {
            int number = Integer.parseInt(version);
            if (number > 0) {
                return registry.read(state -> state.version(subject, number, includeDeleted));
            }
        } catch (NumberFormatException e) {
            // falls through to the Confluent error below
        }
        throw new SchemaRegistryException("The specified version '" + version + "' is not a valid version id. "
                + "Allowed values are between [1, 2^31-1] and the string \"latest\"", 422, 42202);
    }

    private static int schemaId(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new SchemaRegistryException("Schema " + text + " not found", 404, 40403);
        }
    }

    private static ObjectNode describe(RegisteredSchema registered) {
        return JSON.createObjectNode()
                .put("subject", registered.subject())
                .put("version", registered.version())
                .put("id", registered.id())
                .put("schema", registered.schema().toString());
    }

    /**
     * The schema of a registration or lookup body, {@code {"schema": "<Avro JSON>", "schemaType": "AVRO"?,
     * "references": [{"name", "subject", "version"}]?}}; only Avro is served. Referenced schemas are parsed first, so
     * their named types resolve, and the schema is kept self-contained (the referenced types written out in it, as
     * Avro's own JSON form does): readers fetching it by id need nothing else.
     */
    private Schema schemaOf(JsonNode body) {
        String type = body.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new SchemaRegistryException("Invalid schema: schemaType " + type + " is not supported, only AVRO",
                    422, 42201);
        }
        JsonNode text = body.path("schema");
        if (!text.isTextual()) {
            throw new SchemaRegistryException("Invalid schema: the request has no \"schema\" string", 422, 42201);
        }
        Schema.Parser parser = new Schema.Parser();
        for (JsonNode reference : body.path("references")) {
            String subject = reference.path("subject").asText();
            String version = reference.path("version").asText("latest");
            RegisteredSchema referenced;
            try {
                referenced = version(subject, version, false);
            } catch (SchemaRegistryException e) {
                throw new SchemaRegistryException("Invalid schema: reference '" + reference.path("name").asText()
                        + "' to subject '" + subject + "' version " + version + ": " + e.getMessage(), 422, 42201);
            }
            parse(parser, referenced.schema().toString());
        }
        return parse(parser, text.asText());
    }

    private static Schema parse(Schema.Parser parser, String text) {
        try {
            return parser.parse(text);
        } catch (RuntimeException e) {
            // user input: SchemaParseException, AvroTypeException, and for a type name nothing defines (a misspelt
            // "record" too) Avro 1.12's resolver throws a NullPointerException "Unknown schema: ..."
            throw new SchemaRegistryException("Invalid schema: " + e.getMessage(), 422, 42201);
        }
    }

    private static JsonNode body(HttpExchange exchange) throws IOException {
        byte[] bytes = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
        if (bytes.length > MAX_BODY_BYTES) {
            throw new SchemaRegistryException("Request body over " + MAX_BODY_BYTES + " bytes", 413, 413);
        }
        if (bytes.length == 0) {
            return MissingNode.getInstance();
        }
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new SchemaRegistryException("Malformed JSON: " + e.getOriginalMessage(), 400, 400);
        }
    }

    private static void expect(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new SchemaRegistryException("HTTP 405 Method Not Allowed", 405, 405);
        }
    }

    // Query flags set to true (?deleted=true&permanent=true); other values and parameters are ignored.
    private static Set<String> flags(HttpExchange exchange) {
        String query = exchange.getRequestURI().getRawQuery();
        if (query == null) {
            return Set.of();
        }
        return Arrays.stream(query.split("&"))
                .filter(p -> p.endsWith("=true"))
                .map(p -> p.substring(0, p.length() - "=true".length()))
                .collect(Collectors.toUnmodifiableSet());
    }

    // Decoded path segments; split before decoding so that a subject may contain an encoded '/'.
    private static List<String> segments(HttpExchange exchange) {
        return Arrays.stream(exchange.getRequestURI().getRawPath().split("/"))
                .filter(s -> !s.isEmpty())
                .map(s -> URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8))
                .toList();
    }

    private static ObjectNode error(int code, String message) {
        return JSON.createObjectNode().put("error_code", code).put("message", message);
    }
}
