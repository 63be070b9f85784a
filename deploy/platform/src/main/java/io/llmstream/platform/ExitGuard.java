package io.llmstream.platform;

import org.apache.kafka.common.utils.Exit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops an embedded broker from ending the JVM: while at least one broker runs, Kafka's {@link Exit} exit and halt
 * procedures throw instead of calling {@link System#exit}. Reference-counted because several brokers may share a JVM.
 */
final class ExitGuard {
    private static final Logger log = LoggerFactory.getLogger(ExitGuard.class);
    private static int holders;

    private ExitGuard() {}

    static synchronized void acquire() {
        if (holders++ == 0) {
            Exit.setExitProcedure((status, message) -> refuse("exit", status, message));
            Exit.setHaltProcedure((status, message) -> refuse("halt", status, message));
        }
    }

    static synchronized void release() {
        if (holders > 0 && --holders == 0) {
            Exit.resetExitProcedure();
            Exit.resetHaltProcedure();
        }
    }

    // Throwing unwinds the faulty broker thread instead of letting it continue after asking to stop.
    private static void refuse(String kind, int status, String message) {
        String text = "embedded Kafka asked the JVM to " + kind + " with status " + status
                + (message == null ? "" : ": " + message);
        log.error(text);
        throw new IllegalStateException(text);
    }
}
