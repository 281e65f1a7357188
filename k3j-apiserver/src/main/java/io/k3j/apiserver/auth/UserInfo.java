package io.k3j.apiserver.auth;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who made a request, as kube-apiserver's {@code user.Info}: what authorization, audit and
 * {@code SelfSubjectReview} see.
 *
 * @param name   e.g. {@code system:admin}
 * @param uid    may be empty
 * @param groups e.g. {@code system:masters}, {@code system:authenticated}
 * @param extra  e.g. {@code authentication.kubernetes.io/credential-id}
 */
public record UserInfo(String name, String uid, List<String> groups, Map<String, List<String>> extra) {

    /** Every authenticated user is in this group. */
    public static final String ALL_AUTHENTICATED = "system:authenticated";
    /** Superusers: kube-apiserver's privileged group, allowed everything before RBAC is consulted. */
    public static final String SYSTEM_MASTERS = "system:masters";

    public UserInfo {
        requireNonNull(name, "name");
        uid = uid == null ? "" : uid;
        groups = groups == null ? List.of() : List.copyOf(groups);
        Map<String, List<String>> copy = new LinkedHashMap<>();
        if (extra != null) {
            extra.forEach((k, v) -> copy.put(requireNonNull(k, "extra key"), List.copyOf(v)));
        }
        extra = java.util.Collections.unmodifiableMap(copy);
    }

    public UserInfo(String name, String uid, List<String> groups) {
        this(name, uid, groups, Map.of());
    }

    public boolean inGroup(String group) {
        return groups.contains(group);
    }

    /** This user with {@link #ALL_AUTHENTICATED} appended unless already present. */
    UserInfo authenticated() {
        if (groups.contains(ALL_AUTHENTICATED)) {
            return this;
        }
        List<String> all = new java.util.ArrayList<>(groups);
        all.add(ALL_AUTHENTICATED);
        return new UserInfo(name, uid, all, extra);
    }
}
