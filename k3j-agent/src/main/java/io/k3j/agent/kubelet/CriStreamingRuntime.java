package io.k3j.agent.kubelet;

import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.RuntimeService;
import io.k3j.agent.cri.v1.AttachRequest;
import io.k3j.agent.cri.v1.ExecRequest;
import io.k3j.agent.cri.v1.PortForwardRequest;
import java.net.URI;
import java.util.List;
import java.util.Objects;

/** {@link StreamingRuntime} over CRI's Exec, Attach and PortForward RPCs. */
public final class CriStreamingRuntime implements StreamingRuntime {
    private final RuntimeService cri;

    public CriStreamingRuntime(RuntimeService cri) {
        this.cri = Objects.requireNonNull(cri, "cri");
    }

    @Override
    public URI exec(String containerId, List<String> command, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        return call(() -> cri.exec(ExecRequest.newBuilder().setContainerId(containerId).addAllCmd(command)
                .setTty(tty).setStdin(stdin).setStdout(stdout).setStderr(stderr && !tty).build()).getUrl(), "exec in", containerId);
    }

    @Override
    public URI attach(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        return call(() -> cri.attach(AttachRequest.newBuilder().setContainerId(containerId)
                .setTty(tty).setStdin(stdin).setStdout(stdout).setStderr(stderr && !tty).build()).getUrl(), "attach to", containerId);
    }

    @Override
    public URI portForward(String sandboxId, List<Integer> ports) {
        return call(() -> cri.portForward(PortForwardRequest.newBuilder().setPodSandboxId(sandboxId).addAllPort(ports).build()).getUrl(),
                "port-forward to sandbox", sandboxId);
    }

    private interface Call {
        String url();
    }

    private static URI call(Call call, String what, String id) {
        try {
            return URI.create(call.url());
        } catch (CriException e) {
            int status = e.notFound() ? 404 : 500;
            throw new RuntimeStreamingException(status, "cannot " + what + " " + id + ": " + e.getMessage(), e);
        }
    }
}
