package io.llmstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.llmstream.ops.Settings;
import io.llmstream.schemas.Topics;
import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Checks the deployment files (deploy/compose, deploy/k8s) and the Jib configuration against what the code knows: the
 * components' defaults (their properties resources), the topics, the images and the ops ports. Environment variables
 * are mapped back with {@link Settings#load} itself, so the rule checked is the one the components apply.
 */
class DeploymentFilesTest {

    /** The three images: component name (= properties resource, image name) to its main class. */
    private static final Map<String, String> MAIN_CLASSES = Map.of(
            "tokenizer-stream", "io.llmstream.stream.TokenizerStreamApp",
            "trainer", "io.llmstream.trainer.TrainerApp",
            "inference-worker", "io.llmstream.inference.InferenceWorkerApp");
    /** The Maven module that builds each component's image. */
    private static final Map<String, String> MODULE_DIRS = Map.of(
            "tokenizer-stream", "tokenizer-stream/stream",
            "trainer", "trainer",
            "inference-worker", "inference-worker");
    private static final String ENV_PREFIX = Settings.ENV_PREFIX;
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{[^}]*}");

    private static Path root;
    private static Path compose;
    private static Path k8s;
    private static Map<String, Map<String, String>> defaults;
    /** Every YAML document of both directories, by file. */
    private static Map<Path, List<JsonNode>> yaml;

    @BeforeAll
    static void load() throws IOException {
        root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("deploy/k8s/kustomization.yaml"))) {
            root = root.getParent();
            assertThat(root).as("the repository root above the working directory").isNotNull();
        }
        compose = root.resolve("deploy/compose");
        k8s = root.resolve("deploy/k8s");
        defaults = new TreeMap<>();
        for (String component : MAIN_CLASSES.keySet()) {
            defaults.put(component, Settings.resourceDefaults(DeploymentFilesTest.class, "/" + component + ".properties"));
        }
        yaml = new TreeMap<>();
        for (Path file : files(".yml", ".yaml")) {
            yaml.put(file, YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile()).readAll());
        }
    }

    // ---- YAML and kustomize -----------------------------------------------------------------------------------------

    @Test
    void everyYamlDocumentParsesToAnObject() {
        assertThat(yaml).isNotEmpty();
        yaml.forEach((file, docs) -> {
            assertThat(docs).as(file.toString()).isNotEmpty();
            docs.forEach(doc -> assertThat(doc.isObject()).as("a document of " + file).isTrue());
        });
    }

    @Test
    void kustomizationListsOnlyFilesThatExistAndEveryManifest() throws IOException {
        JsonNode kustomization = single(k8s.resolve("kustomization.yaml"));
        List<String> listed = new ArrayList<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        kustomization.path("configMapGenerator").forEach(g -> g.path("files").forEach(f -> listed.add(f.asText())));
        assertThat(listed).isNotEmpty().allSatisfy(f -> assertThat(k8s.resolve(f)).as(f).isRegularFile());

        Set<String> manifests = new TreeSet<>();
        for (Path file : files(".yaml", ".yml", ".properties")) {
            if (file.startsWith(k8s) && !file.getFileName().toString().equals("kustomization.yaml")) {
                manifests.add(k8s.relativize(file).toString());
            }
        }
        assertThat(listed).as("every file under deploy/k8s is part of the kustomization").containsAll(manifests);
    }

    // ---- images -----------------------------------------------------------------------------------------------------

    @Test
    void eachAppModuleConfiguresJibWithItsImageMainClassAndPortButNoPhase() throws Exception {
        Element rootJib = jibPlugin(pom(root.resolve("pom.xml")), true);
        assertThat(child(rootJib, "executions")).as("jib in the parent's pluginManagement, bound to no phase").isNull();
        assertThat(text(child(rootJib, "configuration"), "skip")).as("skipped unless a module turns it on").isEqualTo("true");

        Map<String, String> images = jibImages();
        assertThat(images.keySet()).containsExactlyInAnyOrderElementsOf(MAIN_CLASSES.keySet());
        for (String component : MAIN_CLASSES.keySet()) {
            Element jib = jibPlugin(pom(root.resolve(MODULE_DIRS.get(component)).resolve("pom.xml")), false);
            assertThat(child(jib, "executions")).as(component + ": jib bound to no phase").isNull();
            Element config = child(jib, "configuration");
            assertThat(text(config, "skip")).as(component).isEqualTo("false");
            assertThat(images.get(component)).isEqualTo("llmstream/" + component);
            Element container = child(config, "container");
            String mainClass = text(container, "mainClass");
            assertThat(mainClass).as(component).isEqualTo(MAIN_CLASSES.get(component));
            assertThat(Class.forName(mainClass).getMethod("main", String[].class)).isNotNull();
            assertThat(text(child(container, "ports"), "port")).as(component + " image port")
                    .isEqualTo(opsPort(component));
        }
    }

    @Test
    void everyAppImageReferencedIsAJibImage() throws Exception {
        Set<String> jib = new HashSet<>(jibImages().values());
        List<String> referenced = new ArrayList<>();
        forEachDocument((file, doc) -> {
            doc.path("services").forEach(service -> addImage(referenced, service.path("image")));
            JsonNode pod = doc.path("spec").path("template").path("spec");
            pod.path("containers").forEach(c -> addImage(referenced, c.path("image")));
            pod.path("initContainers").forEach(c -> addImage(referenced, c.path("image")));
            doc.path("images").forEach(i -> addImage(referenced, i.path("name")));
        });
        List<String> ours = referenced.stream().filter(i -> i.contains("llmstream/")).toList();
        assertThat(ours).isNotEmpty().allSatisfy(image -> assertThat(jib).as("Jib images").contains(image));
        assertThat(ours).as("each image is deployed").containsAll(jib);
    }

    // ---- topics -----------------------------------------------------------------------------------------------------

    @Test
    void theDefaultsNameExactlyTheTopicsOfTheCode() throws IllegalAccessException {
        assertThat(knownTopics()).containsExactlyInAnyOrderElementsOf(topicConstants());
    }

    @Test
    void composeCreatesEveryTopicAndNoOther() {
        String script = String.join("\n", strings(service(compose.resolve("docker-compose.yml"), "topics").path("command")));
        Set<String> created = new TreeSet<>();
        Matcher loop = Pattern.compile("for \\w+ in ([^;]+);").matcher(script);
        while (loop.find()) {
            created.addAll(List.of(loop.group(1).trim().split("\\s+")));
        }
        Matcher single = Pattern.compile("--topic\\s+([^\\s$]\\S*)").matcher(script);
        while (single.find()) {
            created.add(single.group(1));
        }
        assertThat(created).containsExactlyInAnyOrderElementsOf(knownTopics());
        assertThat(script).contains("--topic models --partitions 1 --config cleanup.policy=compact");
    }

    @Test
    void kafkaTopicResourcesDefineEveryTopicAndCompactOnlyModels() throws IOException {
        Map<String, JsonNode> topics = new TreeMap<>();
        forEachDocument((file, doc) -> {
            if (doc.path("kind").asText().equals("KafkaTopic")) {
                String name = doc.path("spec").path("topicName").asText(doc.path("metadata").path("name").asText());
                topics.put(name, doc);
            }
        });
        assertThat(topics.keySet()).containsExactlyInAnyOrderElementsOf(knownTopics());
        topics.forEach((name, doc) -> assertThat(doc.path("spec").path("config").path("cleanup.policy").asText("delete"))
                .as(name).isEqualTo(name.equals(Topics.MODELS) ? "compact" : "delete"));
    }

    @Test
    void topicSettingsAndTheAutoscalerNameKnownTopicsAndGroups() throws IOException {
        Set<String> known = knownTopics();
        forEachSetting((where, component, key, value) -> {
            if (key.startsWith("topic.")) {
                assertThat(value).as(where + " " + key).isIn(known);
            }
        });
        List<JsonNode> triggers = new ArrayList<>();
        forEachDocument((file, doc) -> {
            if (doc.path("kind").asText().equals("ScaledObject")) {
                doc.path("spec").path("triggers").forEach(triggers::add);
            }
        });
        assertThat(triggers).isNotEmpty().allSatisfy(t -> {
            assertThat(t.path("metadata").path("topic").asText()).isEqualTo(defaults.get("inference-worker").get("topic.requests"));
            assertThat(t.path("metadata").path("consumerGroup").asText())
                    .isEqualTo(defaults.get("inference-worker").get("kafka.group.id"));
        });
    }

    // ---- settings ---------------------------------------------------------------------------------------------------

    @Test
    void everyPropertiesKeyIsADefaultOrAKafkaClientSetting() throws IOException {
        List<String> checked = new ArrayList<>();
        forEachProperties((where, component, props) -> props.forEach((key, value) -> {
            checked.add(key);
            assertThat(isKnown(component, key)).as(where + ": " + key + " is not a setting of " + component).isTrue();
        }));
        assertThat(checked).isNotEmpty();
    }

    @Test
    void everyLlmstreamEnvironmentVariableReachesASetting() throws IOException {
        List<String> checked = new ArrayList<>();
        forEachEnvironment((where, component, name) -> {
            checked.add(name);
            String key = keyOf(component, name);
            assertThat(key).as(where + ": " + name + " sets nothing in " + component).isNotNull();
            assertThat(isKnown(component, key)).as(where + ": " + name + " -> " + key).isTrue();
        });
        assertThat(checked).contains(ENV_PREFIX + "KAFKA_BOOTSTRAP_SERVERS", ENV_PREFIX + "INSTANCE_ID");
    }

    @Test
    void eachContainerReadsTheConfigMapOfItsComponent() throws IOException {
        Map<String, String> generated = new TreeMap<>(); // ConfigMap name -> file name
        single(k8s.resolve("kustomization.yaml")).path("configMapGenerator").forEach(g -> g.path("files")
                .forEach(f -> generated.put(g.path("name").asText(), Path.of(f.asText()).getFileName().toString())));
        List<String> seen = new ArrayList<>();
        forEachDocument((file, doc) -> {
            JsonNode pod = doc.path("spec").path("template").path("spec");
            for (JsonNode c : containers(doc)) {
                String component = component(c.path("image").asText());
                List<String> args = strings(c.path("args"));
                int i = args.indexOf("--config");
                assertThat(i).as(file + ": " + component + " is given --config").isGreaterThanOrEqualTo(0);
                Path config = Path.of(args.get(i + 1));
                assertThat(config.getFileName().toString()).isEqualTo(component + ".properties");
                String volume = null;
                for (JsonNode mount : c.path("volumeMounts")) {
                    if (Path.of(mount.path("mountPath").asText()).equals(config.getParent())) {
                        volume = mount.path("name").asText();
                    }
                }
                String configMap = null;
                for (JsonNode v : pod.path("volumes")) {
                    if (v.path("name").asText().equals(volume)) {
                        configMap = v.path("configMap").path("name").asText();
                    }
                }
                assertThat(generated.get(configMap)).as(file + ": the ConfigMap mounted for " + component)
                        .isEqualTo(component + ".properties");
                seen.add(component);
            }
        });
        assertThat(seen).containsExactlyInAnyOrderElementsOf(MAIN_CLASSES.keySet());
    }

    // ---- ports ------------------------------------------------------------------------------------------------------

    @Test
    void opsPortsMatchTheDefaults() throws IOException {
        List<String> checked = new ArrayList<>();
        forEachSetting((where, component, key, value) -> {
            if (key.equals("ops.port")) {
                assertThat(value).as(where + " overrides ops.port").isEqualTo(opsPort(component));
            }
        });
        forEachDocument((file, doc) -> {
            doc.path("services").fields().forEachRemaining(s -> {
                String component = component(s.getValue().path("image").asText());
                if (component == null) {
                    return;
                }
                for (String mapping : strings(s.getValue().path("ports"))) {
                    checked.add(file + " " + mapping);
                    assertThat(mapping.substring(mapping.lastIndexOf(':') + 1)).as(file + " " + s.getKey() + " ports")
                            .isEqualTo(opsPort(component));
                }
                String check = String.join(" ", strings(s.getValue().path("healthcheck").path("test")));
                Matcher tcp = Pattern.compile("/dev/tcp/[^/]+/(\\d+)").matcher(check);
                while (tcp.find()) {
                    checked.add(file + " " + check);
                    assertThat(tcp.group(1)).as(file + " " + s.getKey() + " healthcheck").isEqualTo(opsPort(component));
                }
            });
            JsonNode template = doc.path("spec").path("template");
            for (JsonNode c : containers(doc)) {
                String component = component(c.path("image").asText());
                String expected = opsPort(component);
                Map<String, String> named = new TreeMap<>();
                for (JsonNode p : c.path("ports")) {
                    checked.add(file + " containerPort");
                    assertThat(p.path("containerPort").asText()).as(file + " " + component).isEqualTo(expected);
                    named.put(p.path("name").asText(), p.path("containerPort").asText());
                }
                for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                    JsonNode port = c.path(probe).path("httpGet").path("port");
                    if (!port.isMissingNode()) {
                        checked.add(file + " " + probe);
                        assertThat(named.getOrDefault(port.asText(), port.asText())).as(file + " " + component + " " + probe)
                                .isEqualTo(expected);
                        assertThat(c.path(probe).path("httpGet").path("path").asText()).isEqualTo("/health");
                    }
                }
                JsonNode scrape = template.path("metadata").path("annotations").path("prometheus.io/port");
                assertThat(scrape.asText()).as(file + " " + component + " prometheus.io/port").isEqualTo(expected);
            }
            if (doc.path("kind").asText().equals("Service")) {
                String component = doc.path("spec").path("selector").path("app.kubernetes.io/name").asText();
                for (JsonNode p : doc.path("spec").path("ports")) {
                    checked.add(file + " service");
                    assertThat(p.path("port").asText()).as(file + " service " + component).isEqualTo(opsPort(component));
                    String target = p.path("targetPort").asText();
                    assertThat(target.equals("ops") || target.equals(opsPort(component))).as(file + " targetPort").isTrue();
                }
            }
        });
        assertThat(checked).hasSizeGreaterThan(10);
    }

    // ---- helpers: the code's view -----------------------------------------------------------------------------------

    private static String opsPort(String component) {
        assertThat(defaults).as("a component named " + component).containsKey(component);
        return defaults.get(component).get("ops.port");
    }

    /** The topic names in the three components' defaults. */
    private static Set<String> knownTopics() {
        Set<String> topics = new TreeSet<>();
        defaults.values().forEach(d -> d.forEach((k, v) -> {
            if (k.startsWith("topic.")) {
                topics.add(v);
            }
        }));
        return topics;
    }

    private static Set<String> topicConstants() throws IllegalAccessException {
        Set<String> names = new TreeSet<>();
        for (Field f : Topics.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                names.add((String) f.get(null));
            }
        }
        return names;
    }

    /** A key of the component's defaults, or a kafka.* key its Kafka clients know. */
    private static boolean isKnown(String component, String key) {
        if (defaults.get(component).containsKey(key)) {
            return true;
        }
        if (!key.startsWith(Settings.KAFKA_PREFIX)) {
            return false;
        }
        String client = key.substring(Settings.KAFKA_PREFIX.length());
        Set<String> names = new HashSet<>(ConsumerConfig.configNames());
        names.addAll(ProducerConfig.configNames());
        if (component.equals("tokenizer-stream")) { // Kafka Streams hands these to its own clients
            names.addAll(StreamsConfig.configDef().names());
            names.addAll(AdminClientConfig.configNames());
        }
        return names.contains(client);
    }

    /** The key an environment variable sets in a component, as {@link Settings#load} decides; null for none. */
    private static String keyOf(String component, String env) {
        String marker = "\u0000" + env;
        Map<String, String> loaded = Settings.load(defaults.get(component), null, Map.of(env, marker), List.of()).asMap();
        return loaded.entrySet().stream().filter(e -> e.getValue().equals(marker)).map(Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    // ---- helpers: the files -----------------------------------------------------------------------------------------

    private static List<Path> files(String... suffixes) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : List.of(root.resolve("deploy/compose"), root.resolve("deploy/k8s"))) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.filter(Files::isRegularFile)
                        .filter(p -> Stream.of(suffixes).anyMatch(s -> p.getFileName().toString().endsWith(s)))
                        .sorted().forEach(out::add);
            }
        }
        return out;
    }

    private static JsonNode single(Path file) {
        assertThat(yaml.get(file)).as(file.toString()).hasSize(1);
        return yaml.get(file).get(0);
    }

    private static JsonNode service(Path file, String name) {
        JsonNode service = single(file).path("services").path(name);
        assertThat(service.isObject()).as(file + " service " + name).isTrue();
        return service;
    }

    private static void forEachDocument(BiConsumer<Path, JsonNode> action) {
        yaml.forEach((file, docs) -> docs.forEach(doc -> action.accept(root.relativize(file), doc)));
    }

    /** The containers of a workload (Deployment, StatefulSet, ...) that run one of the three images. */
    private static List<JsonNode> containers(JsonNode doc) {
        List<JsonNode> out = new ArrayList<>();
        doc.path("spec").path("template").path("spec").path("containers").forEach(c -> {
            if (component(c.path("image").asText()) != null) {
                out.add(c);
            }
        });
        return out;
    }

    /** The component an image reference runs ({@code [registry/]llmstream/<component>[:tag]}), or null. */
    private static String component(String image) {
        String name = normalize(image);
        return name.startsWith("llmstream/") && MAIN_CLASSES.containsKey(name.substring("llmstream/".length()))
                ? name.substring("llmstream/".length()) : null;
    }

    /** An image reference without compose interpolation, registry prefix, tag or digest. */
    private static String normalize(String image) {
        String name = INTERPOLATION.matcher(image).replaceAll("");
        int at = name.indexOf('@');
        name = at < 0 ? name : name.substring(0, at);
        int colon = name.lastIndexOf(':');
        name = colon > name.lastIndexOf('/') ? name.substring(0, colon) : name;
        int ours = name.indexOf("llmstream/");
        return ours < 0 ? name : name.substring(ours);
    }

    private static void addImage(List<String> images, JsonNode image) {
        if (image.isTextual()) {
            images.add(normalize(image.asText()));
        }
    }

    /** A scalar, or the scalars of a sequence. */
    private static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> out.add(n.asText()));
        } else if (!node.isMissingNode() && !node.isNull()) {
            out.add(node.asText());
        }
        return out;
    }

    private interface PropertiesAction {
        void accept(String where, String component, Map<String, String> props);
    }

    private interface EnvironmentAction {
        void accept(String where, String component, String name);
    }

    private interface SettingAction {
        void accept(String where, String component, String key, String value);
    }

    /** Properties files of the deployment (named after their component) and properties inside ConfigMap manifests. */
    private static void forEachProperties(PropertiesAction action) throws IOException {
        for (Path file : files(".properties")) {
            String component = file.getFileName().toString().replace(".properties", "");
            assertThat(MAIN_CLASSES).as(file + " is named after a component").containsKey(component);
            action.accept(root.relativize(file).toString(), component, properties(Files.readString(file)));
        }
        forEachDocument((file, doc) -> {
            if (doc.path("kind").asText().equals("ConfigMap")) {
                doc.path("data").fields().forEachRemaining(e -> {
                    if (e.getKey().endsWith(".properties")) {
                        action.accept(file + " " + e.getKey(), e.getKey().replace(".properties", ""),
                                properties(e.getValue().asText()));
                    }
                });
            }
        });
    }

    /**
     * Every LLMSTREAM_* variable given to a component: compose environments, container env, and the Secret keys a
     * container takes with envFrom.
     */
    private static void forEachEnvironment(EnvironmentAction action) throws IOException {
        Map<String, List<String>> secretKeys = new TreeMap<>();
        forEachDocument((file, doc) -> {
            if (doc.path("kind").asText().equals("Secret")) {
                List<String> keys = new ArrayList<>();
                doc.path("stringData").fieldNames().forEachRemaining(keys::add);
                doc.path("data").fieldNames().forEachRemaining(keys::add);
                secretKeys.put(doc.path("metadata").path("name").asText(), keys);
            }
        });
        forEachDocument((file, doc) -> {
            doc.path("services").fields().forEachRemaining(s -> {
                String component = component(s.getValue().path("image").asText());
                if (component != null) {
                    environment(s.getValue().path("environment")).keySet().stream().filter(n -> n.startsWith(ENV_PREFIX))
                            .forEach(n -> action.accept(file + " " + s.getKey(), component, n));
                }
            });
            for (JsonNode c : containers(doc)) {
                String component = component(c.path("image").asText());
                c.path("env").forEach(e -> {
                    if (e.path("name").asText().startsWith(ENV_PREFIX)) {
                        action.accept(file + " " + component, component, e.path("name").asText());
                    }
                });
                c.path("envFrom").forEach(from -> {
                    String secret = from.path("secretRef").path("name").asText(null);
                    if (secret != null) {
                        assertThat(secretKeys).as(file + ": Secret " + secret).containsKey(secret);
                        secretKeys.get(secret).forEach(n -> {
                            assertThat(n).as("Secret " + secret + " holds environment variables").startsWith(ENV_PREFIX);
                            action.accept(file + " " + component + " secret " + secret, component, n);
                        });
                    }
                });
            }
        });
    }

    /** Every setting given to a component: properties keys and the keys LLMSTREAM_* variables set (with values). */
    private static void forEachSetting(SettingAction action) throws IOException {
        forEachProperties((where, component, props) -> props.forEach((k, v) -> action.accept(where, component, k, v)));
        forEachDocument((file, doc) -> doc.path("services").fields().forEachRemaining(s -> {
            String component = component(s.getValue().path("image").asText());
            if (component != null) {
                environment(s.getValue().path("environment")).forEach((name, value) -> {
                    String key = name.startsWith(ENV_PREFIX) ? keyOf(component, name) : null;
                    if (key != null) {
                        action.accept(file + " " + s.getKey(), component, key, value);
                    }
                });
            }
        }));
        forEachDocument((file, doc) -> {
            for (JsonNode c : containers(doc)) {
                String component = component(c.path("image").asText());
                c.path("env").forEach(e -> {
                    String key = e.has("value") ? keyOf(component, e.path("name").asText()) : null;
                    if (key != null) {
                        action.accept(file + " " + component, component, key, e.path("value").asText());
                    }
                });
            }
        });
    }

    /** A compose environment, as a map or as a list of NAME=value. */
    private static Map<String, String> environment(JsonNode env) {
        Map<String, String> out = new LinkedHashMap<>();
        if (env.isObject()) {
            env.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        } else {
            env.forEach(e -> {
                String s = e.asText();
                int eq = s.indexOf('=');
                out.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
            });
        }
        return out;
    }

    private static Map<String, String> properties(String text) {
        Properties props = new Properties();
        try {
            props.load(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> out = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> out.put(k, props.getProperty(k).trim()));
        return out;
    }

    // ---- helpers: the poms ------------------------------------------------------------------------------------------

    /** Component to the image name its pom configures for Jib (registry prefix and tag left out). */
    private static Map<String, String> jibImages() throws Exception {
        Map<String, String> images = new TreeMap<>();
        for (String component : MAIN_CLASSES.keySet()) {
            Element jib = jibPlugin(pom(root.resolve(MODULE_DIRS.get(component)).resolve("pom.xml")), false);
            String image = text(child(child(jib, "configuration"), "to"), "image");
            assertThat(image).as(component + " jib to.image").startsWith("${image.registry}").endsWith(":${image.tag}");
            images.put(component, normalize(image));
        }
        return images;
    }

    private static Document pom(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }

    /** The jib-maven-plugin element of build/plugins, or of build/pluginManagement/plugins. */
    private static Element jibPlugin(Document pom, boolean managed) {
        Element build = child(pom.getDocumentElement(), "build");
        Element plugins = child(managed ? child(build, "pluginManagement") : build, "plugins");
        NodeList list = plugins.getElementsByTagName("plugin");
        for (int i = 0; i < list.getLength(); i++) {
            Element plugin = (Element) list.item(i);
            if ("jib-maven-plugin".equals(text(plugin, "artifactId")) && plugin.getParentNode() == plugins) {
                return plugin;
            }
        }
        throw new AssertionError("no jib-maven-plugin in " + (managed ? "pluginManagement" : "build/plugins"));
    }

    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }
}
