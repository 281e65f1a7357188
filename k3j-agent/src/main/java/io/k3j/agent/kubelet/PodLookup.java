package io.k3j.agent.kubelet;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The pods this node runs, as the kubelet API needs them: sandbox, container ids and log folders. */
public interface PodLookup {

    /** The pod, or empty when this node doesn't run a pod of that name. */
    Optional<Pod> pod(String namespace, String name);

    /**
     * @param sandboxId  the CRI sandbox id (empty until the sandbox runs)
     * @param containers by container name (init and ephemeral containers included)
     */
    record Pod(String uid, String sandboxId, Map<String, Container> containers) {
        public Pod {
            containers = Map.copyOf(containers);
        }
    }

    /**
     * @param id      the CRI container id of the current attempt (empty while none was created)
     * @param logDir  {@code <data dir>/logs/<ns>_<pod>_<uid>/<container>}, holding {@code <attempt>.log} files
     * @param attempt the current attempt (restart count); its log is {@code <attempt>.log}
     * @param running whether the current attempt runs (a follow ends once it doesn't and its log is read)
     */
    record Container(String id, Path logDir, int attempt, boolean running) {
    }
}
