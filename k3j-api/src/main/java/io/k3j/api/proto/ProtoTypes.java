package io.k3j.api.proto;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the proto message for an (apiVersion, kind) among the descriptors of io.kubernetes:client-java-proto.
 * Kubernetes names its proto packages after the Go package ({@code apps/v1} Deployment is
 * {@code k8s.io.api.apps.v1.Deployment}); the jar names the outer class of each file after version and group
 * ({@code V1Apps}, {@code V1beta1Extensions}, core is plain {@code V1}). A file's descriptor is built only
 * when a kind of its group version is first asked for, so the server pays nothing until a protobuf request
 * comes, and then only for the groups used.
 */
final class ProtoTypes {
    static final String META = "k8s.io.apimachinery.pkg.apis.meta.v1";
    private static final String OUTER_CLASS_PACKAGE = "io.kubernetes.client.proto.";

    /** Kinds that every group version serves from meta/v1, as kube-apiserver registers them. */
    private static final Set<String> META_KINDS = Set.of("DeleteOptions", "Status", "WatchEvent");

    private static final Map<String, Optional<FileDescriptor>> FILES = new ConcurrentHashMap<>();

    private ProtoTypes() {}

    /** The message for a top-level kind, or empty when this build knows no such built-in type. */
    static Optional<Descriptor> find(String apiVersion, String kind) {
        int slash = apiVersion.indexOf('/');
        String group = slash < 0 ? "" : apiVersion.substring(0, slash);
        String version = slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
        if (version.isEmpty() || kind.isEmpty() || !version.matches("v[0-9]+((alpha|beta)[0-9]+)?")) return Optional.empty();
        Optional<Descriptor> own = goPackage(group)
                .flatMap(pkg -> file(pkg, version))
                .map(file -> file.findMessageTypeByName(kind))
                .filter(ProtoTypes::isObject);
        if (own.isPresent() || !META_KINDS.contains(kind)) return own;
        return file("meta", "v1").map(file -> file.findMessageTypeByName(kind));
    }

    /** Top-level API objects carry ObjectMeta or ListMeta as field 1; this keeps out PodSpec and friends. */
    private static boolean isObject(Descriptor message) {
        if (message == null) return false;
        var first = message.findFieldByNumber(1);
        return first != null && first.getName().equals("metadata");
    }

    /**
     * The last Go package element for an API group. Only Kubernetes' own groups map to a package: a CRD
     * group such as {@code apps.example.com} must not be mistaken for {@code apps}.
     */
    private static Optional<String> goPackage(String group) {
        return switch (group) {
            case "" -> Optional.of("core");
            case "apps", "batch", "autoscaling", "policy", "extensions" -> Optional.of(group);
            case "apiextensions.k8s.io" -> Optional.of("apiextensions");
            case "meta.k8s.io" -> Optional.of("meta");
            case "internal.apiserver.k8s.io" -> Optional.of("apiserverinternal");
            default -> group.endsWith(".k8s.io") ? Optional.of(group.substring(0, group.indexOf('.'))) : Optional.empty();
        };
    }

    private static Optional<FileDescriptor> file(String goPackage, String version) {
        return FILES.computeIfAbsent(goPackage + "/" + version, key -> load(goPackage, version));
    }

    private static Optional<FileDescriptor> load(String goPackage, String version) {
        String outer = switch (goPackage) {
            case "meta" -> "Meta";
            case "core" -> capitalize(version);
            default -> capitalize(version) + capitalize(goPackage);
        };
        try {
            Class<?> type = Class.forName(OUTER_CLASS_PACKAGE + outer, true, ProtoTypes.class.getClassLoader());
            return Optional.of((FileDescriptor) type.getMethod("getDescriptor").invoke(null));
        } catch (ClassNotFoundException e) {
            return Optional.empty();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalStateException("loading proto descriptors of " + goPackage + "/" + version + " from " + outer, e);
        }
    }

    private static String capitalize(String s) {
        return s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }
}
