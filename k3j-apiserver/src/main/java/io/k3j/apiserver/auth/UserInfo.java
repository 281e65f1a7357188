package io.k3j.apiserver.auth;

import java.util.List;
import java.util.Map;

/** An authenticated user (placeholder until the auth package lands; same shape). */
public record UserInfo(String name, String uid, List<String> groups, Map<String, List<String>> extra) {}
