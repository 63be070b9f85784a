package io.llmstream.platform;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A child JVM running a main class on this JVM's classpath (the launcher's jar, or a test run's), its output appended
 * to a log file: how the platform runs each broker of a {@link KafkaCluster}, and how fault tests run a component
 * they can {@code kill -9}.
 */
public final class JavaProcess {

    private JavaProcess() {}

    /**
     * @param jvmOptions e.g. {@code -Xmx512m}
     * @param log        where stdout and stderr go (appended)
     */
    public static Process start(Class<?> mainClass, List<String> jvmOptions, List<String> args, Path log)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add(mainClass.getName());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        // The class path goes in the environment: ONNX Runtime 1.29 crashes (SIGSEGV) at start-up in a JVM whose
        // command line is several kilobytes long, as a full test class path makes it.
        builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        return builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }
}
