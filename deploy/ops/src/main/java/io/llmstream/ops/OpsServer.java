package io.llmstream.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operations endpoint every component serves: {@code GET /health} (200 when healthy, 503 otherwise, with the
 * state as a small JSON body) and {@code GET /metrics} (Prometheus text format).
 */
public final class OpsServer implements AutoCloseable {
    /** A component's health: whether it serves, and a one-word state such as RUNNING or REBALANCING. */
    public record Health(boolean healthy, String state) {}

    private final HttpServer server;

    private OpsServer(HttpServer server) {
        this.server = server;
    }

    /** Starts the endpoint on {@code port} (0 = any free port) on all interfaces, for probes from outside the pod. */
    public static OpsServer start(int port, Supplier<Health> health, PrometheusMeterRegistry metrics) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
            server.createContext("/health", exchange -> {
                Health h = health.get();
                String body = "{\"status\":\"" + (h.healthy() ? "UP" : "DOWN") + "\",\"state\":\"" + h.state() + "\"}\n";
                respond(exchange, h.healthy() ? 200 : 503, "application/json", body);
            });
            server.createContext("/metrics", exchange ->
                    respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
            server.setExecutor(Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "ops-http");
                t.setDaemon(true);
                return t;
            }));
            server.start();
            return new OpsServer(server);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serve /health and /metrics on port " + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
