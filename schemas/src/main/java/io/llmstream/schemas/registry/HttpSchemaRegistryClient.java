package io.llmstream.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SchemaRegistryClient} over the Confluent REST API ({@code application/vnd.schemaregistry.v1+json}).
 *
 * <p>Several base URLs may be given: a call goes to the one that answered last and moves on to the next when a URL
 * cannot be reached. Connection failures, timeouts and 5xx answers are retried with capped exponential backoff (with
 * jitter) up to a bounded number of attempts; 4xx answers are never retried. Schemas by id and ids by (subject,
 * schema) are cached, as both are immutable in a registry. HTTPS uses JSSE: the default {@link SSLContext} (so the
 * {@code javax.net.ssl.*} system properties apply) or the one given. Thread-safe.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {

    /** Media type of requests and answers. */
    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    /** Comma-separated base URLs, e.g. {@code http://reg-1:8081,http://reg-2:8081}. Required. */
    public static final String URL_CONFIG = "schema.registry.url";
    /** {@code user:password} for HTTP basic auth; user info in the URL is used when this is absent. */
    public static final String BASIC_AUTH_USER_INFO_CONFIG = "basic.auth.user.info";
    /** Attempts per call, first one included (default 4); 1 disables retries. */
    public static final String MAX_ATTEMPTS_CONFIG = "schema.registry.max.attempts";
    /** Backoff before the first retry, doubled for each further one (default 100). */
    public static final String RETRY_BACKOFF_MS_CONFIG = "schema.registry.retry.backoff.ms";
    /** Upper bound of the backoff (default 2000). */
    public static final String RETRY_BACKOFF_MAX_MS_CONFIG = "schema.registry.retry.backoff.max.ms";
    /** Time limit of one HTTP exchange, connecting included (default 10000). */
    public static final String TIMEOUT_MS_CONFIG = "schema.registry.timeout.ms";
    /** An {@link SSLContext} instance (not a string) for HTTPS; absent means {@link SSLContext#getDefault()}. */
    public static final String SSL_CONTEXT_CONFIG = "schema.registry.ssl.context";

    private static final Logger LOG = LoggerFactory.getLogger(HttpSchemaRegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> baseUrls;
    private final AtomicInteger preferredUrl = new AtomicInteger();
    private final HttpClient http;
    private final String authorization;
    private final int maxAttempts;
    private final Duration backoff;
    private final Duration maxBackoff;
    private final Duration timeout;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();

    private record SubjectSchema(String subject, String schema) {}

    /** The answer of one exchange, with the URL that gave it (for error messages). */
    private record Reply(URI uri, int status, byte[] body) {}

    private HttpSchemaRegistryClient(Builder builder) {
        this.baseUrls = List.copyOf(builder.urls);
        this.authorization = builder.userInfo == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(builder.userInfo.getBytes(StandardCharsets.UTF_8));
        this.maxAttempts = builder.maxAttempts;
        this.backoff = builder.backoff;
        this.maxBackoff = builder.maxBackoff;
        this.timeout = builder.timeout;
        this.http = builder.sslContext == null ? DefaultHttp.CLIENT : newHttpClient(builder.sslContext);
    }

    /** A builder for a client of the registry at {@code urls} (failover order). */
    public static Builder builder(String... urls) {
        return new Builder(Arrays.asList(urls));
    }

    /**
     * A client configured by the {@code *_CONFIG} keys of this class; values may be strings or numbers, as in Kafka
     * client configs. Unknown keys are ignored, so a whole producer or consumer config can be passed.
     */
    public static HttpSchemaRegistryClient fromConfig(Map<String, ?> config) {
        Object urls = config.get(URL_CONFIG);
        if (urls == null || urls.toString().isBlank()) {
            throw new IllegalArgumentException("Missing required config '" + URL_CONFIG + "'");
        }
        Builder builder = new Builder(Arrays.stream(urls.toString().split(",")).map(String::trim)
                .filter(u -> !u.isEmpty()).toList());
        Object userInfo = config.get(BASIC_AUTH_USER_INFO_CONFIG);
        if (userInfo != null && !userInfo.toString().isEmpty()) {
            builder.basicAuth(userInfo.toString());
        }
        Object sslContext = config.get(SSL_CONTEXT_CONFIG);
        if (sslContext != null) {
            if (!(sslContext instanceof SSLContext context)) {
                throw new IllegalArgumentException("'" + SSL_CONTEXT_CONFIG
                        + "' must be a javax.net.ssl.SSLContext, got " + sslContext.getClass().getName());
            }
            builder.sslContext(context);
        }
        return builder
                .maxAttempts((int) number(config, MAX_ATTEMPTS_CONFIG, builder.maxAttempts))
                .retryBackoff(Duration.ofMillis(number(config, RETRY_BACKOFF_MS_CONFIG, builder.backoff.toMillis())),
                        Duration.ofMillis(number(config, RETRY_BACKOFF_MAX_MS_CONFIG, builder.maxBackoff.toMillis())))
                .timeout(Duration.ofMillis(number(config, TIMEOUT_MS_CONFIG, builder.timeout.toMillis())))
                .build();
    }

    @Override
    public int register(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema.toString());
        Integer cached = idsBySubjectSchema.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode reply = call("POST", "/subjects/" + segment(subject) + "/versions", schemaBody(schema),
                "register schema under subject '" + subject + "'");
        int id = reply.path("id").asInt();
        idsBySubjectSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public RegisteredSchema lookup(String subject, Schema schema) {
        JsonNode reply = call("POST", "/subjects/" + segment(subject), schemaBody(schema),
                "look up schema under subject '" + subject + "'");
        RegisteredSchema found = registered(reply, subject, schema);
        idsBySubjectSchema.put(new SubjectSchema(subject, schema.toString()), found.id());
        schemasById.putIfAbsent(found.id(), found.schema());
        return found;
    }

    @Override
    public Schema getById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        String what = "get schema id " + id;
        Schema schema = parse(call("GET", "/schemas/ids/" + id, null, what).path("schema").asText(), what);
        Schema raced = schemasById.putIfAbsent(id, schema);
        return raced == null ? schema : raced;
    }

    @Override
    public RegisteredSchema latest(String subject) {
        JsonNode reply = call("GET", "/subjects/" + segment(subject) + "/versions/latest", null,
                "get latest version of subject '" + subject + "'");
        return registered(reply, subject, null);
    }

    @Override
    public List<String> subjects() {
        List<String> subjects = new ArrayList<>();
        call("GET", "/subjects", null, "list subjects").forEach(s -> subjects.add(s.asText()));
        subjects.sort(null);
        return List.copyOf(subjects);
    }

    @Override
    public List<Integer> versions(String subject) {
        List<Integer> versions = new ArrayList<>();
        call("GET", "/subjects/" + segment(subject) + "/versions", null,
                "list versions of subject '" + subject + "'").forEach(v -> versions.add(v.asInt()));
        versions.sort(null);
        return List.copyOf(versions);
    }

    /** As the interface says; a subject without versions (404/40401) accepts any schema, so this returns true. */
    @Override
    public boolean isCompatible(String subject, Schema schema) {
        try {
            return call("POST", "/compatibility/subjects/" + segment(subject) + "/versions/latest", schemaBody(schema),
                    "check compatibility with subject '" + subject + "'").path("is_compatible").asBoolean();
        } catch (SchemaRegistryException e) {
            if (e.errorCode() == 40401) {
                return true;
            }
            throw e;
        }
    }

    @Override
    public CompatibilityLevel compatibility(String subject) {
        if (subject != null) {
            try {
                return level(call("GET", "/config/" + segment(subject) + "?defaultToGlobal=true", null,
                        "get compatibility of subject '" + subject + "'"));
            } catch (SchemaRegistryException e) {
                // Registries without defaultToGlobal answer "subject not found" / "no subject config" (40401/40408).
                if (e.errorCode() != 40401 && e.errorCode() != 40408) {
                    throw e;
                }
            }
        }
        return level(call("GET", "/config", null, "get global compatibility"));
    }

    @Override
    public void setCompatibility(String subject, CompatibilityLevel level) {
        ObjectNode body = JSON.createObjectNode().put("compatibility", level.name());
        call("PUT", subject == null ? "/config" : "/config/" + segment(subject), body,
                subject == null ? "set global compatibility" : "set compatibility of subject '" + subject + "'");
    }

    /**
     * One REST call with retries. {@code what} names the operation and its subject or id in error messages.
     *
     * @throws SchemaRegistryException on a 4xx answer at once, or after the last attempt on 5xx / connection failure
     */
    private JsonNode call(String method, String path, JsonNode body, String what) {
        byte[] payload = body == null ? null : body.toString().getBytes(StandardCharsets.UTF_8);
        SchemaRegistryException failure = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (attempt > 1) {
                LOG.warn("Schema registry: {} failed (attempt {} of {}), retrying: {}", what, attempt - 1, maxAttempts,
                        failure.getMessage());
                pause(attempt - 1, what, failure);
            }
            Reply reply;
            try {
                reply = exchange(method, path, payload);
            } catch (IOException e) {
                failure = new SchemaRegistryException("Schema registry: " + what + " failed: cannot reach " + baseUrls
                        + ": " + e, 0, 0, e);
                continue;
            }
            if (reply.status() / 100 == 2) {
                return json(reply, what);
            }
            failure = error(reply, what);
            if (reply.status() < 500) {
                throw failure;
            }
        }
        throw failure;
    }

    /** Sends to the URL that answered last, then to the others in turn while they cannot be reached. */
    private Reply exchange(String method, String path, byte[] payload) throws IOException {
        int first = preferredUrl.get();
        IOException failure = null;
        for (int i = 0; i < baseUrls.size(); i++) {
            int index = (first + i) % baseUrls.size();
            URI uri = URI.create(baseUrls.get(index) + path);
            HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                    .timeout(timeout)
                    .header("Accept", CONTENT_TYPE)
                    .method(method, payload == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(payload));
            if (payload != null) {
                request.header("Content-Type", CONTENT_TYPE);
            }
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            try {
                HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
                preferredUrl.set(index);
                return new Reply(uri, response.statusCode(), response.body());
            } catch (IOException e) {
                if (failure != null) {
                    e.addSuppressed(failure);
                }
                failure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("Schema registry: interrupted calling " + uri, 0, 0, e);
            }
        }
        throw failure;
    }

    private void pause(int retry, String what, SchemaRegistryException failure) {
        long capped = Math.min(maxBackoff.toMillis(), backoff.toMillis() << Math.min(retry - 1, 30));
        // Jitter in [capped/2, capped] keeps many clients from retrying in lockstep after a registry restart.
        long millis = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("Schema registry: " + what + " interrupted while retrying", 0, 0,
                    failure);
        }
    }

    private static SchemaRegistryException error(Reply reply, String what) {
        int code = reply.status();
        String message = new String(reply.body(), StandardCharsets.UTF_8).strip();
        try {
            JsonNode node = JSON.readTree(reply.body());
            if (node != null && node.has("error_code")) {
                code = node.path("error_code").asInt(code);
                message = node.path("message").asText(message);
            }
        } catch (IOException notJson) {
            // Proxies answer with HTML or plain text: keep the body itself as the message.
        }
        if (message.length() > 500) {
            message = message.substring(0, 500) + "...";
        }
        return new SchemaRegistryException("Schema registry: " + what + " failed: HTTP " + reply.status() + ", error "
                + code + ": " + message + " (" + reply.uri() + ")", reply.status(), code);
    }

    private static JsonNode json(Reply reply, String what) {
        try {
            JsonNode node = JSON.readTree(reply.body());
            return node == null ? JSON.missingNode() : node;
        } catch (IOException e) {
            throw new SchemaRegistryException("Schema registry: " + what + " got an answer that is not JSON from "
                    + reply.uri(), reply.status(), reply.status(), e);
        }
    }

    /** A registration from a {subject, id, version, schema} answer; {@code known} stands in when schema is absent. */
    private static RegisteredSchema registered(JsonNode reply, String subject, Schema known) {
        String what = "schema of subject '" + subject + "'";
        Schema schema = reply.hasNonNull("schema") ? parse(reply.get("schema").asText(), what) : known;
        return new RegisteredSchema(reply.path("subject").asText(subject), reply.path("version").asInt(),
                reply.path("id").asInt(), schema);
    }

    private static Schema parse(String text, String what) {
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException("Schema registry: " + what + " is not a valid Avro schema: "
                    + e.getMessage(), 422, 42201, e);
        }
    }

    private static CompatibilityLevel level(JsonNode reply) {
        // Confluent answers GET with "compatibilityLevel" and PUT with "compatibility".
        JsonNode level = reply.hasNonNull("compatibilityLevel") ? reply.get("compatibilityLevel")
                : reply.path("compatibility");
        return CompatibilityLevel.parse(level.asText());
    }

    private static ObjectNode schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString());
    }

    /** Encodes a subject as one path segment (URLEncoder targets forms, where a space is '+'). */
    private static String segment(String subject) {
        return URLEncoder.encode(Objects.requireNonNull(subject, "subject"), StandardCharsets.UTF_8)
                .replace("+", "%20");
    }

    private static long number(Map<String, ?> config, String key, long defaultValue) {
        Object value = config.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Config '" + key + "' must be a whole number, got '" + value + "'");
        }
    }

    private static HttpClient newHttpClient(SSLContext sslContext) {
        // HTTP/1.1: registries (and the embedded one) gain nothing from h2c upgrade attempts on every request.
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
        return (sslContext == null ? builder : builder.sslContext(sslContext)).build();
    }

    /** One shared JDK client (each holds a selector thread) for every registry client without its own SSLContext. */
    private static final class DefaultHttp {
        static final HttpClient CLIENT = newHttpClient(null);
    }

    /** Settings of an {@link HttpSchemaRegistryClient}; defaults as documented on the {@code *_CONFIG} keys. */
    public static final class Builder {
        private final List<URI> urls = new ArrayList<>();
        private String userInfo;
        private SSLContext sslContext;
        private int maxAttempts = 4;
        private Duration backoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(2);
        private Duration timeout = Duration.ofSeconds(10);

        private Builder(List<String> urls) {
            if (urls.isEmpty()) {
                throw new IllegalArgumentException("At least one schema registry URL is required");
            }
            for (String url : urls) {
                URI uri = URI.create(url);
                if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())
                        || uri.getHost() == null) {
                    throw new IllegalArgumentException("Schema registry URL must be http(s)://host[:port]: '" + url
                            + "'");
                }
                if (uri.getUserInfo() != null && userInfo == null) {
                    userInfo = uri.getUserInfo();
                }
                String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("/+$", "");
                // Drop user info (it goes into the Authorization header) so it never shows in error messages.
                this.urls.add(URI.create(uri.getScheme() + "://" + uri.getHost()
                        + (uri.getPort() < 0 ? "" : ":" + uri.getPort()) + path));
            }
        }

        /** HTTP basic auth credentials as {@code user:password}. */
        public Builder basicAuth(String userInfo) {
            this.userInfo = Objects.requireNonNull(userInfo, "userInfo");
            return this;
        }

        /** The TLS context for https URLs (default: the JVM's default context). */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
            return this;
        }

        /** Attempts per call including the first; at least 1. */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** Backoff before the first retry (doubled per retry) and its cap. */
        public Builder retryBackoff(Duration initial, Duration max) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("Need 0 <= initial backoff <= max backoff, got " + initial + ", "
                        + max);
            }
            this.backoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /** Time limit of one HTTP exchange. */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        public HttpSchemaRegistryClient build() {
            return new HttpSchemaRegistryClient(this);
        }
    }
}
