package io.k3j.apiserver.join;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * k3s's node-password check: the first agent to claim a node name stores a hash of its password in the secret
 * {@code kube-system/<node>.node-password.k3s}; a later claim of the same name must bring the same password, so a
 * second machine cannot take over an existing node's identity (and its pods' secrets). k3s hashes with scrypt;
 * k3j with PBKDF2-HMAC-SHA256 from the JDK, stored as {@code $pbkdf2-sha256$<iterations>$<salt>$<hash>}.
 */
final class NodePasswords {
    static final String NAMESPACE = "kube-system";
    static final String SUFFIX = ".node-password.k3s";
    private static final int ITERATIONS = 100_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ObjectStore objects;
    private final ResourceType secrets;

    NodePasswords(ObjectStore objects, ResourceRegistry registry) {
        this.objects = objects;
        this.secrets = registry.find("", "v1", "secrets").orElseThrow();
    }

    /**
     * Accepts {@code password} for {@code node}: records it on first use, else compares.
     *
     * @throws ApiException 403 when the node name is held by another password
     */
    void verifyOrSet(String node, String password) {
        String name = node + SUFFIX;
        for (int attempt = 0; attempt < 2; attempt++) {
            var existing = objects.find(secrets, NAMESPACE, name);
            if (existing.isPresent()) {
                String stored = new String(Base64.getDecoder().decode(
                        Json.text(existing.get().path("data"), "hash")), StandardCharsets.US_ASCII);
                if (!matches(stored, password)) {
                    throw ApiException.forbidden("node password rejected: node \"" + node + "\" already joined with"
                            + " another password (duplicate node name?); use a unique --node-name, or delete secret "
                            + NAMESPACE + "/" + name + " if this machine replaces that node");
                }
                return;
            }
            ObjectNode secret = Json.object();
            secret.put("apiVersion", "v1");
            secret.put("kind", "Secret");
            ObjectNode meta = secret.putObject("metadata");
            meta.put("name", name);
            meta.put("namespace", NAMESPACE);
            meta.putObject("labels").put("k3j.io/node-password", "true");
            secret.put("type", "k3s.cattle.io/node-password");
            secret.putObject("data").put("hash", Base64.getEncoder().encodeToString(
                    hash(password).getBytes(StandardCharsets.US_ASCII)));
            try {
                objects.create(secrets, NAMESPACE, secret, WriteOptions.system("k3j-join"));
                return;
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
                // another request for the same node won the race: compare with what it stored
            }
        }
        throw ApiException.conflict("", "secrets", name, "the node password changed concurrently; try again");
    }

    static String hash(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return "$pbkdf2-sha256$" + ITERATIONS + "$" + b64(salt) + "$" + b64(derive(password, salt, ITERATIONS));
    }

    static boolean matches(String stored, String password) {
        String[] parts = stored.split("\\$");
        // "", "pbkdf2-sha256", iterations, salt, hash
        if (parts.length != 5 || !parts[1].equals("pbkdf2-sha256")) return false;
        int iterations;
        try {
            iterations = Integer.parseInt(parts[2]);
        } catch (NumberFormatException e) {
            return false;
        }
        byte[] salt = Base64.getDecoder().decode(parts[3]);
        byte[] expected = Base64.getDecoder().decode(parts[4]);
        return MessageDigest.isEqual(expected, derive(password, salt, iterations));
    }

    private static byte[] derive(String password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is mandatory in every JDK", e);
        }
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().withoutPadding().encodeToString(b);
    }
}
