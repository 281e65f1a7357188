package io.k3j.e2e;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;

@DisplayName("kubectl 1.27 against k3j")
class Kubectl127ScenarioTest extends KubectlScenario {
    @Override
    Path binary() {
        return Path.of("/usr/lib/google-cloud-sdk/bin/kubectl.1.27");
    }

    @Override
    int minor() {
        return 27;
    }
}
