package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Writes the admin kubeconfig the way k3s writes {@code /etc/rancher/k3s/k3s.yaml}: one cluster, context and user,
 * all named {@code default}, credentials inline as base64 {@code *-data} fields, keys in the order client-go's
 * serializer emits them.
 */
public final class KubeconfigWriter {

    /** k3s's default for {@code --write-kubeconfig-mode} when none is given. */
    public static final int DEFAULT_MODE = 0600;

    private KubeconfigWriter() {
    }

    /**
     * Writes the kubeconfig atomically, creating parent folders, and gives the file {@code mode}.
     *
     * @param mode      permission bits, e.g. {@code 0600} or {@link #parseMode(String)} of
     *                  {@code --write-kubeconfig-mode}
     * @param serverUrl e.g. {@code https://127.0.0.1:6443}
     * @param caPem     the server CA bundle (what verifies the API server)
     * @param user      the client certificate chain and key
     * @throws IOException              if the file or its folders cannot be written
     * @throws IllegalArgumentException if {@code mode} is outside 0..0777
     */
    public static void write(Path file, int mode, String serverUrl, String caPem, CertAndKey user) throws IOException {
        requireNonNull(file, "file");
        String yaml = render(serverUrl, caPem, user);
        SecureFiles.write(file, yaml, mode);
        // Files.move keeps the temp file's mode, but set it again in case the target's file system remapped it.
        SecureFiles.chmod(file, mode);
    }

    /** The kubeconfig text {@link #write} stores. */
    public static String render(String serverUrl, String caPem, CertAndKey user) {
        requireNonNull(serverUrl, "serverUrl");
        requireNonNull(caPem, "caPem");
        requireNonNull(user, "user");
        return """
                apiVersion: v1
                clusters:
                - cluster:
                    certificate-authority-data: %s
                    server: %s
                  name: default
                contexts:
                - context:
                    cluster: default
                    user: default
                  name: default
                current-context: default
                kind: Config
                preferences: {}
                users:
                - name: default
                  user:
                    client-certificate-data: %s
                    client-key-data: %s
                """.formatted(b64(caPem), serverUrl, b64(user.certificatePem()), b64(user.privateKeyPem()));
    }

    /**
     * Parses a k3s {@code --write-kubeconfig-mode} value: octal digits with or without a leading 0 ({@code 644},
     * {@code 0644}), as Go's {@code strconv.ParseInt(s, 8, 0)} reads them.
     *
     * @throws IllegalArgumentException if the value is not octal or exceeds 0777
     */
    public static int parseMode(String mode) {
        requireNonNull(mode, "mode");
        String expected = " (expected: octal permission bits such as 0600 or 644)";
        if (mode.isEmpty() || !mode.chars().allMatch(c -> c >= '0' && c <= '7') || mode.length() > 12) {
            throw new IllegalArgumentException("--write-kubeconfig-mode : \"" + mode + "\"" + expected);
        }
        long value = Long.parseLong(mode, 8);
        if (value > 0777) {
            throw new IllegalArgumentException("--write-kubeconfig-mode : \"" + mode + "\"" + expected);
        }
        return (int) value;
    }

    private static String b64(String pem) {
        return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
    }
}
