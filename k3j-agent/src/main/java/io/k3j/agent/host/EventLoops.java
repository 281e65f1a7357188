package io.k3j.agent.host;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The agent's one Netty event-loop group, shared by its API client, CRI client, kubelet API and ingress listeners:
 * each of them had a group of its own, i.e. an idle thread, a selector and per-thread buffer caches apiece. Epoll
 * when the platform has it (the CRI client's unix socket needs it), NIO otherwise.
 *
 * <p>Reference-counted: {@link #acquire()} creates the group on first use, {@link Lease#close()} shuts it down when
 * the last user is done, so a process (or a test) that closes everything it started keeps no event-loop threads.
 * Sockets are created on the caller's thread, so users in different network namespaces may share it.
 */
public final class EventLoops {
    /** Threads of the shared group: the agent's I/O is light, two CPUs' worth is plenty for every user together. */
    static final int THREADS = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));

    private static final Object LOCK = new Object();
    private static MultiThreadIoEventLoopGroup group;
    private static int users;

    private EventLoops() {
    }

    /** A use of the shared group; closing it more than once releases it once. */
    public static final class Lease implements AutoCloseable {
        private final EventLoopGroup group;
        private boolean closed;

        private Lease(EventLoopGroup group) {
            this.group = group;
        }

        /** The shared group (don't shut it down: close the lease). */
        public EventLoopGroup group() {
            return group;
        }

        @Override
        public void close() {
            synchronized (LOCK) {
                if (closed) return;
                closed = true;
                if (--users > 0 || group != EventLoops.group) return;
                EventLoops.group = null;
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Takes a use of the shared group, creating it if nobody uses it now. */
    public static Lease acquire() {
        synchronized (LOCK) {
            if (group == null) {
                group = new MultiThreadIoEventLoopGroup(THREADS, new DefaultThreadFactory("k3j-io", true),
                        Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
            }
            users++;
            return new Lease(group);
        }
    }

    /** True when {@code group} runs epoll (else its channels must be NIO ones). */
    public static boolean isEpoll(EventLoopGroup group) {
        return group instanceof IoEventLoopGroup io && io.isIoType(EpollIoHandler.class);
    }

    /** The TCP client channel type that {@code group} can run. */
    public static Class<? extends SocketChannel> socketChannel(EventLoopGroup group) {
        return isEpoll(group) ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The TCP listener channel type that {@code group} can run. */
    public static Class<? extends ServerChannel> serverChannel(EventLoopGroup group) {
        return isEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
