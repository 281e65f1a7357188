package io.k3j.agent.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

/** The kubelet API's caller check reads the client certificate's subject (DER, encoded here by the JDK). */
class CallerNameTest {
    private static String caller(String subject) {
        return KubeletServer.callerName(new X500Principal(subject).getEncoded());
    }

    @Test
    void systemMastersMayCallOthersAreNamedByTheirCommonName() {
        assertThat(caller("CN=kube-apiserver-kubelet-client, O=system:masters")).isNull();
        assertThat(caller("CN=system:node:n1, O=system:nodes")).isEqualTo("system:node:n1");
        // any organization counts; the first common name in the certificate (DER order) names the caller, and a
        // distinguished name string lists the last one first (RFC 4514)
        assertThat(caller("CN=admin, O=dev, O=system:masters")).isNull();
        assertThat(caller("CN=last, CN=first, O=dev")).isEqualTo("first");
        assertThat(caller("O=dev")).isEqualTo("unknown");
        assertThat(caller("CN=a\\, b, O=system:masters-not")).isEqualTo("a, b");
    }

    @Test
    void brokenSubjectIsRefused() {
        assertThatThrownBy(() -> KubeletServer.callerName(new byte[]{0x30, 0x05, 0x31})).isInstanceOf(IllegalArgumentException.class);
    }
}
