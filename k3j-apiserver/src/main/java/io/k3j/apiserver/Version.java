package io.k3j.apiserver;

import java.io.InputStream;
import java.util.Properties;

/** k3j's own version, from the build. */
public final class Version {
    public static final String K3J;
    public static final String COMMIT;
    public static final String BUILD_DATE;

    static {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/k3j-version.properties")) {
            if (in != null) p.load(in);
        } catch (Exception e) {
            // keep the defaults
        }
        K3J = p.getProperty("version", "0.0.0-dev").replace("-SNAPSHOT", "");
        COMMIT = p.getProperty("commit", "unknown");
        BUILD_DATE = p.getProperty("buildDate", "1970-01-01T00:00:00Z");
    }

    private Version() {}
}
