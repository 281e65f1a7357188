package io.k3j.apiserver.auth;

import io.k3j.api.ApiException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * User impersonation through {@code Impersonate-*} headers, as kube-apiserver's
 * (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): the requester must be allowed verb
 * {@code impersonate} on each user, service account, group, extra value and uid asked for; the request then runs
 * as the user so described, with {@code system:authenticated} added.
 */
public final class Impersonation {
    static final String USER = "impersonate-user";
    static final String GROUP = "impersonate-group";
    static final String UID = "impersonate-uid";
    static final String EXTRA_PREFIX = "impersonate-extra-";
    private static final String SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";
    private static final String ANONYMOUS = "system:anonymous";
    private static final String UNAUTHENTICATED = "system:unauthenticated";

    private Impersonation() {
    }

    /**
     * The user a request runs as: {@code requester} itself when no {@code Impersonate-*} header is present.
     *
     * @param headers every request header as name/value pairs (a repeated header appears once per value)
     * @throws ApiException 403 naming the first thing the requester may not impersonate (kube-apiserver's message),
     *                      400 for groups, extras or a uid without a user
     */
    public static UserInfo resolve(UserInfo requester, Iterable<Map.Entry<String, String>> headers, Authorizer authorizer) {
        String user = "";
        String uid = "";
        List<String> groups = new ArrayList<>();
        Map<String, List<String>> extra = new LinkedHashMap<>();
        boolean any = false;
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (name.equals(USER)) {
                if (user.isEmpty()) user = h.getValue();
            } else if (name.equals(GROUP)) {
                groups.add(h.getValue());
            } else if (name.equals(UID)) {
                if (uid.isEmpty()) uid = h.getValue();
            } else if (name.startsWith(EXTRA_PREFIX)) {
                extra.computeIfAbsent(unescape(name.substring(EXTRA_PREFIX.length())), k -> new ArrayList<>()).add(h.getValue());
            } else {
                continue;
            }
            any = true;
        }
        if (!any) return requester;
        String[] serviceAccount = serviceAccount(user);
        if (user.isEmpty()) {
            if (groups.isEmpty() && extra.isEmpty() && uid.isEmpty()) return requester;
            throw ApiException.badRequest("requested " + describe(groups, extra, uid) + " without impersonating a user");
        }
        List<String> finalGroups = new ArrayList<>();
        // the user (or service account) is checked first, then groups, extras and uid: the first refusal answers
        if (serviceAccount != null) {
            check(requester, authorizer, "", "serviceaccounts", "", serviceAccount[0], serviceAccount[1]);
            if (groups.isEmpty()) {
                finalGroups.add("system:serviceaccounts");
                finalGroups.add("system:serviceaccounts:" + serviceAccount[0]);
            }
        } else {
            check(requester, authorizer, "", "users", "", "", user);
        }
        for (String g : groups) {
            check(requester, authorizer, "", "groups", "", "", g);
            finalGroups.add(g);
        }
        for (Map.Entry<String, List<String>> e : extra.entrySet()) {
            for (String v : e.getValue()) check(requester, authorizer, "authentication.k8s.io", "userextras", e.getKey(), "", v);
        }
        if (!uid.isEmpty()) check(requester, authorizer, "authentication.k8s.io", "uids", "", "", uid);

        if (user.equals(ANONYMOUS)) {
            if (!finalGroups.contains(UNAUTHENTICATED)) finalGroups.add(UNAUTHENTICATED);
        } else if (!finalGroups.contains(UserInfo.ALL_AUTHENTICATED) && !finalGroups.contains(UNAUTHENTICATED)) {
            // an impersonated user is authenticated unless the caller says it is not
            finalGroups.add(UserInfo.ALL_AUTHENTICATED);
        }
        return new UserInfo(user, uid, finalGroups, extra);
    }

    /** {@code [namespace, name]} when the user is {@code system:serviceaccount:<ns>:<name>}, else null. */
    private static String[] serviceAccount(String user) {
        if (!user.startsWith(SERVICE_ACCOUNT_PREFIX)) return null;
        String[] parts = user.substring(SERVICE_ACCOUNT_PREFIX.length()).split(":", -1);
        return parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() ? parts : null;
    }

    /** Go's %v of the ObjectReferences kube-apiserver builds for the request, which its 400 message prints. */
    private static String describe(List<String> groups, Map<String, List<String>> extra, String uid) {
        List<String> refs = new ArrayList<>();
        // ObjectReference fields in order: Kind Namespace Name UID APIVersion ResourceVersion FieldPath
        for (String g : groups) refs.add("{Group  " + g + "    }");
        extra.forEach((k, values) -> values.forEach(v -> refs.add("{UserExtra  " + v + "  authentication.k8s.io/v1  " + k + "}")));
        if (!uid.isEmpty()) refs.add("{UID  " + uid + "  authentication.k8s.io/v1  }");
        return "[" + String.join(" ", refs) + "]";
    }

    /** Extra keys may be percent-encoded (URL path escaping); a malformed one is kept as sent. */
    private static String unescape(String key) {
        try {
            return URLDecoder.decode(key.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return key;
        }
    }

    private static void check(UserInfo requester, Authorizer authorizer, String group, String resource, String subresource,
                              String namespace, String name) {
        RequestAttributes a = RequestAttributes.resource("impersonate", group, resource, subresource, namespace, name, "");
        AuthorizationResult d = authorizer.authorize(requester, a);
        if (!d.allowed()) throw forbidden(requester, a, d.reason());
    }

    /**
     * kube-apiserver's 403 for a refused request: {@code <resource>[.<group>] ["<name>"] is forbidden: User ... cannot
     * ...[: <reason>]}, or {@code forbidden: User ... cannot <verb> path ...} for non-resource paths.
     */
    public static ApiException forbidden(UserInfo user, RequestAttributes a, String reason) {
        String subject = "";
        if (a.resourceRequest()) {
            subject = a.apiGroup().isEmpty() ? a.resource() : a.resource() + "." + a.apiGroup();
            if (!a.name().isEmpty()) subject += " " + RequestAttributes.quote(a.name());
        }
        return ApiException.forbidden((subject.isEmpty() ? "forbidden: " : subject + " is forbidden: ")
                + a.forbiddenMessage(user.name()) + (reason == null || reason.isEmpty() ? "" : ": " + reason));
    }
}
