package io.k3j.apiserver.auth;

import static java.util.Objects.requireNonNull;

/**
 * What a request asks to do, as kube-apiserver's {@code authorizer.Attributes} (the user travels separately).
 *
 * @param verb            {@code get list watch create update patch delete deletecollection} for resources, the
 *                        lower-case HTTP method for other paths
 * @param apiGroup        {@code ""} for the core group
 * @param resource        e.g. {@code pods}; empty for non-resource requests
 * @param subresource     e.g. {@code status}, {@code log}; may be empty
 * @param namespace       empty for cluster-scoped resources and for lists across all namespaces
 * @param name            empty for collections
 * @param path            the request path, e.g. {@code /api/v1/namespaces/default/pods}
 * @param resourceRequest false for {@code /healthz}, {@code /version}, discovery and the like
 */
public record RequestAttributes(String verb, String apiGroup, String resource, String subresource, String namespace,
                                String name, String path, boolean resourceRequest) {

    public RequestAttributes {
        requireNonNull(verb, "verb");
        apiGroup = apiGroup == null ? "" : apiGroup;
        resource = resource == null ? "" : resource;
        subresource = subresource == null ? "" : subresource;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
        path = path == null ? "" : path;
    }

    public static RequestAttributes resource(String verb, String apiGroup, String resource, String subresource,
                                             String namespace, String name, String path) {
        return new RequestAttributes(verb, apiGroup, resource, subresource, namespace, name, path, true);
    }

    public static RequestAttributes nonResource(String verb, String path) {
        return new RequestAttributes(verb, "", "", "", "", "", path, false);
    }

    /**
     * kube-apiserver's forbidden message for this request (without the {@code <resource> "<name>" is forbidden: }
     * prefix the Status adds), e.g. {@code User "bob" cannot list resource "pods" in API group "" in the namespace
     * "default"}.
     */
    public String forbiddenMessage(String username) {
        if (!resourceRequest) {
            return "User " + quote(username) + " cannot " + verb + " path " + quote(path);
        }
        String res = subresource.isEmpty() ? resource : resource + "/" + subresource;
        String prefix = "User " + quote(username) + " cannot " + verb + " resource " + quote(res)
                + " in API group " + quote(apiGroup);
        return namespace.isEmpty() ? prefix + " at the cluster scope" : prefix + " in the namespace " + quote(namespace);
    }

    /** Go's %q for the printable strings Kubernetes names are made of: escapes quotes and backslashes. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
