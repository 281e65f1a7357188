package io.k3j.e2e;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;

@DisplayName("kubectl 1.33 against k3j")
class Kubectl133ScenarioTest extends KubectlScenario {
    @Override
    Path binary() {
        return Path.of("/usr/lib/google-cloud-sdk/bin/kubectl.1.33");
    }

    @Override
    int minor() {
        return 33;
    }
}
