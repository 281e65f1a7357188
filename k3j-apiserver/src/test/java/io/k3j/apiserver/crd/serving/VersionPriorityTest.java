package io.k3j.apiserver.crd.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class VersionPriorityTest {
    @Test
    @DisplayName("CRD versions sort as the Kubernetes docs' version priority example (discovery order, preferred first)")
    void docsExample() {
        List<String> expected = List.of("v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v11alpha2", "foo1", "foo10");
        List<String> shuffled = new ArrayList<>(expected);
        Collections.reverse(shuffled);
        shuffled.sort(CustomResourceDefinitions::compareVersions);
        assertThat(shuffled).isEqualTo(expected);
    }
}
