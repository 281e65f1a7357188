package io.k3j.apiserver.resource;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One resource the API serves at one version: its names, scope, verbs and subresources, and where its objects
 * live in the store. Versions of one resource share storage (same {@link #storagePrefix()}).
 *
 * @param tracksGeneration whether {@code metadata.generation} is bumped on spec changes (apps, batch, CRs…)
 */
public record ResourceType(
        String group,
        String version,
        String kind,
        String plural,
        String singular,
        boolean namespaced,
        List<String> shortNames,
        List<String> categories,
        List<String> verbs,
        Set<String> subresources,
        boolean tracksGeneration,
        boolean custom) {

    public static final List<String> STANDARD_VERBS =
            List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

    public ResourceType {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(plural, "plural");
        shortNames = List.copyOf(shortNames);
        categories = List.copyOf(categories);
        verbs = List.copyOf(verbs);
        subresources = Set.copyOf(subresources);
    }

    /** {@code v1} for the core group, else {@code group/version}. */
    public String apiVersion() {
        return group.isEmpty() ? version : group + "/" + version;
    }

    public String listKind() {
        return kind + "List";
    }

    /** {@code deployments.apps}, {@code pods}: how Kubernetes names a resource in messages. */
    public String qualifiedName() {
        return group.isEmpty() ? plural : plural + "." + group;
    }

    /** Store key prefix shared by all versions: {@code /registry/<group|core>/<plural>/}. */
    public String storagePrefix() {
        return "/registry/" + (group.isEmpty() ? "core" : group) + "/" + plural + "/";
    }

    public String key(String namespace, String name) {
        return namespaced ? storagePrefix() + namespace + "/" + name : storagePrefix() + name;
    }

    public boolean has(String subresource) {
        return subresources.contains(subresource);
    }

    public boolean supports(String verb) {
        return verbs.contains(verb);
    }

    /** The URL path of the collection, e.g. {@code /apis/apps/v1/namespaces/ns/deployments}. */
    public String collectionPath(String namespace) {
        String base = group.isEmpty() ? "/api/v1" : "/apis/" + group + "/" + version;
        return namespaced && namespace != null ? base + "/namespaces/" + namespace + "/" + plural : base + "/" + plural;
    }
}
