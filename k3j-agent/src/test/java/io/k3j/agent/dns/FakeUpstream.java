package io.k3j.agent.dns;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The upstream resolver of the tests, on 127.0.0.1 (UDP and TCP on one port): names under {@code example.test}
 * resolve to 192.0.2.10 (a documentation address: nothing is ever sent there), {@code slow.example.test} never
 * answers (to see SERVFAIL), anything else is NXDOMAIN. It records the IDs and names it was asked for.
 */
final class FakeUpstream implements AutoCloseable {
    final DatagramSocket udp;
    final ServerSocket tcp;
    final List<Integer> ids = new CopyOnWriteArrayList<>();
    final List<String> names = new CopyOnWriteArrayList<>();
    private final Thread udpThread;
    private final Thread tcpThread;
    private volatile boolean closed;

    FakeUpstream() throws IOException {
        DatagramSocket u = null;
        ServerSocket t = null;
        for (int i = 0; i < 20 && t == null; i++) {
            u = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            try {
                t = new ServerSocket(u.getLocalPort(), 16, InetAddress.getByName("127.0.0.1"));
            } catch (IOException e) {
                u.close();
            }
        }
        if (t == null) throw new IOException("no port free for UDP and TCP");
        udp = u;
        tcp = t;
        udpThread = Thread.ofPlatform().daemon().name("fake-upstream-udp").start(this::serveUdp);
        tcpThread = Thread.ofPlatform().daemon().name("fake-upstream-tcp").start(this::serveTcp);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), udp.getLocalPort());
    }

    private byte[] answer(byte[] q, int len) {
        DnsMessage m;
        try {
            m = DnsMessage.parse(q, len);
        } catch (DnsMessage.FormatException e) {
            return null;
        }
        ids.add(m.id);
        String name = DnsMessage.lower(m.questions.get(0).name());
        names.add(name);
        if (name.equals("slow.example.test")) return null;
        DnsMessage r = m.reply();
        r.ra = true;
        if (name.endsWith("example.test")) {
            if (m.questions.get(0).type() == DnsMessage.A) {
                r.answers.add(DnsMessage.Rr.in(m.questions.get(0).name(), 300, new DnsMessage.Address(Ips.parse("192.0.2.10"))));
            }
        } else {
            r.rcode = DnsMessage.NXDOMAIN;
        }
        return r.encode();
    }

    private void serveUdp() {
        byte[] buf = new byte[65535];
        while (!closed) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                udp.receive(p);
                byte[] a = answer(p.getData(), p.getLength());
                if (a != null) udp.send(new DatagramPacket(a, a.length, p.getSocketAddress()));
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    private void serveTcp() {
        while (!closed) {
            try (Socket s = tcp.accept()) {
                s.setSoTimeout(5000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] q = new byte[in.readUnsignedShort()];
                in.readFully(q);
                byte[] a = answer(q, q.length);
                if (a == null) continue;
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {(byte) (a.length >> 8), (byte) a.length});
                out.write(a);
                out.flush();
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        udp.close();
        try {
            tcp.close();
        } catch (IOException e) {
            // closing anyway
        }
        udpThread.join(2000);
        tcpThread.join(2000);
    }
}
