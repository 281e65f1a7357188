package io.k3j.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Log lines as k3s prints them: {@code INFO[0001] message} (seconds since start). */
final class Logging {
    private static final Instant START = Instant.now();

    private Logging() {}

    static void configure(boolean debug) {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) root.removeHandler(h);
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(debug ? Level.FINE : Level.INFO);
        handler.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String level = r.getLevel().intValue() >= Level.SEVERE.intValue() ? "ERRO"
                        : r.getLevel().intValue() >= Level.WARNING.intValue() ? "WARN"
                        : r.getLevel().intValue() >= Level.INFO.intValue() ? "INFO" : "DEBU";
                long secs = Duration.between(START, Instant.now()).toSeconds();
                StringBuilder sb = new StringBuilder().append(level).append('[').append(String.format("%04d", secs)).append("] ")
                        .append(formatMessage(r)).append('\n');
                if (r.getThrown() != null && debug) {
                    var sw = new java.io.StringWriter();
                    r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
                    sb.append(sw);
                }
                return sb.toString();
            }
        });
        root.addHandler(handler);
        root.setLevel(debug ? Level.FINE : Level.INFO);
        Logger.getLogger("io.netty").setLevel(debug ? Level.INFO : Level.WARNING);
    }
}
