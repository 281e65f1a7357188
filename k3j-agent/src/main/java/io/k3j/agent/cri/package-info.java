/**
 * CRI v1 client: {@link io.k3j.agent.cri.RuntimeService} and {@link io.k3j.agent.cri.ImageService} (blocking, one
 * method per RPC, messages from the generated {@code io.k3j.agent.cri.v1} package), implemented by
 * {@link io.k3j.agent.cri.CriClient} as unary gRPC over Netty HTTP/2 on the runtime's unix socket; failures are
 * {@link io.k3j.agent.cri.CriException}s carrying the gRPC status code.
 */
package io.k3j.agent.cri;
