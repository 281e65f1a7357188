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

    private Impersonation() {
    }

    /**
     * The user a request runs as: {@code requester} itself when no {@code Impersonate-*} header is present.
     *
     * @param headers every request header as name/value pairs (a repeated header appears once per value)
     * @throws ApiException 403 naming the first thing the requester may not impersonate (kube-apiserver's message),
     *                      500 for groups, extras or a uid without a user (as kube-apiserver answers)
     */
    public static UserInfo resolve(UserInfo requester, Iterable<Map.Entry<String, String>> headers, Authorizer authorizer) {
        String user = null;
        String uid = null;
        List<String> groups = new ArrayList<>();
        Map<String, List<String>> extra = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (name.equals(USER)) {
                user = h.getValue();
            } else if (name.equals(GROUP)) {
                groups.add(h.getValue());
            } else if (name.equals(UID)) {
                uid = h.getValue();
            } else if (name.startsWith(EXTRA_PREFIX)) {
                String key = URLDecoder.decode(name.substring(EXTRA_PREFIX.length()), StandardCharsets.UTF_8);
                extra.computeIfAbsent(key, k -> new ArrayList<>()).add(h.getValue());
            }
        }
        if (user == null) {
            if (groups.isEmpty() && extra.isEmpty() && uid == null) return requester;
            throw ApiException.internal("requested impersonation of groups, extra or uid without impersonating a user");
        }
        boolean groupsSpecified = !groups.isEmpty();
        List<String> finalGroups = new ArrayList<>();
        // the user (or service account) is checked first, then groups, extras and uid: the first refusal answers
        if (user.startsWith(SERVICE_ACCOUNT_PREFIX) && user.substring(SERVICE_ACCOUNT_PREFIX.length()).split(":", -1).length == 2) {
            String[] nsName = user.substring(SERVICE_ACCOUNT_PREFIX.length()).split(":", -1);
            check(requester, authorizer, "", "serviceaccounts", "", nsName[0], nsName[1]);
            if (!groupsSpecified) {
                finalGroups.add("system:serviceaccounts");
                finalGroups.add("system:serviceaccounts:" + nsName[0]);
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
        if (uid != null) check(requester, authorizer, "authentication.k8s.io", "uids", "", "", uid);

        if (user.equals("system:anonymous")) {
            if (!finalGroups.contains("system:unauthenticated")) finalGroups.add("system:unauthenticated");
        } else if (!finalGroups.contains(UserInfo.ALL_AUTHENTICATED)) {
            finalGroups.add(UserInfo.ALL_AUTHENTICATED);
        }
        return new UserInfo(user, uid, finalGroups, extra);
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
