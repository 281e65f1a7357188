package io.k3j.e2e;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;

@DisplayName("kubectl 1.32 (/usr/bin/kubectl) against k3j")
class Kubectl132ScenarioTest extends KubectlScenario {
    @Override
    Path binary() {
        return Path.of("/usr/bin/kubectl");
    }

    @Override
    int minor() {
        return 32;
    }
}
