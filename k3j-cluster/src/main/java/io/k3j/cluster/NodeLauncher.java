package io.k3j.cluster;

import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
     * The agent's flags as the {@code k3j} launcher script gives {@code k3j agent}: a small young generation and heap
     * that stays near its live set, C1 only compiling the hottest methods, unpooled Netty buffers, no JFR probing.
     */
    private static final List<String> AGENT_OPTIONS = List.of("-XX:+UseSerialGC", "-Xss256k", "-Xms8m", "-XX:MaxNewSize=3m",
            "-XX:MinHeapFreeRatio=5", "-XX:MaxHeapFreeRatio=10", "-XX:MaxRAMPercentage=25", "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1", "-XX:CompileThresholdScaling=3", "-XX:ReservedCodeCacheSize=16m", "-Xshare:off",
            "-Dio.netty.jfr.enabled=false", "-Dio.netty.allocator.type=unpooled", "-Djdk.nio.maxCachedBufferSize=65536",
            "--enable-native-access=ALL-UNNAMED");

    /**
     * How an agent node runs, as {@code ./k3j agent} does: the agent's flags, and the agent-only jar beside
     * {@code k3j.jar} (entry point {@code io.k3j.cli.AgentMain}) when this launcher runs from {@code k3j.jar} and that
     * build wrote one; otherwise this class path.
     */
    public NodeLauncher forAgent() {
        List<String> options = new ArrayList<>(AGENT_OPTIONS);
        // as the launcher: periodic malloc_trim from JDK 22 on, compact object headers from JDK 25 on
        if (Runtime.version().feature() >= 22) options.add("-XX:TrimNativeHeapInterval=2000");
        if (Runtime.version().feature() >= 25) options.add("-XX:+UseCompactObjectHeaders");
        if (!classPath.contains(File.pathSeparator) && classPath.endsWith("k3j.jar")) {
            Path jar = Path.of(classPath);
            Path agentJar = jar.resolveSibling("k3j-agent.jar");
            Path thin = jar.resolveSibling("original-k3j.jar");
            try {
                // the agent jar is written before k3j.jar by the same build: current when newer than that build's thin jar
                if (Files.isRegularFile(agentJar) && (!Files.exists(thin)
                        || Files.getLastModifiedTime(agentJar).compareTo(Files.getLastModifiedTime(thin)) > 0)) {
                    return new NodeLauncher(java, agentJar.toString(), "io.k3j.cli.AgentMain", options);
                }
            } catch (IOException e) {
                // fall back to this class path
            }
        }
        return new NodeLauncher(java, classPath, mainClass, options);
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
