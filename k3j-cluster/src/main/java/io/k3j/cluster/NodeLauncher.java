package io.k3j.cluster;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;

/**
 * How a node's {@code k3j server|agent} process is started: {@code JAVA JVMOPTS -cp CLASSPATH MAIN server|agent ...}.
 * The CLI passes its own JVM, class path and main class, so nodes run exactly the k3j that created them.
 *
 * @param java      the java binary
 * @param classPath the class path (the k3j jar, or the build's class path in tests)
 * @param mainClass the class whose {@code main} understands {@code server} and {@code agent}
 * @param jvmOptions options before {@code -cp}
 */
public record NodeLauncher(Path java, String classPath, String mainClass, List<String> jvmOptions) {
    public NodeLauncher {
        requireNonNull(java, "java");
        requireNonNull(classPath, "classPath");
        requireNonNull(mainClass, "mainClass");
        jvmOptions = List.copyOf(jvmOptions);
    }

    /**
     * This JVM's binary and class path with {@code mainClass}; small heaps and C1 only, as the {@code k3j} launcher
     * script runs an agent (several nodes share one machine).
     */
    public static NodeLauncher thisJvm(String mainClass) {
        return new NodeLauncher(Path.of(System.getProperty("java.home"), "bin", "java"), System.getProperty("java.class.path"), mainClass,
                List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms16m", "-XX:MaxRAMPercentage=25", "-XX:TieredStopAtLevel=1",
                        "-XX:CICompilerCount=1", "-Dio.netty.jfr.enabled=false", "--enable-native-access=ALL-UNNAMED"));
    }
}
