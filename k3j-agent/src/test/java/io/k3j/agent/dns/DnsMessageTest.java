package io.k3j.agent.dns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.agent.dns.DnsMessage.Address;
import io.k3j.agent.dns.DnsMessage.FormatException;
import io.k3j.agent.dns.DnsMessage.Name;
import io.k3j.agent.dns.DnsMessage.Raw;
import io.k3j.agent.dns.DnsMessage.Rr;
import io.k3j.agent.dns.DnsMessage.Soa;
import io.k3j.agent.dns.DnsMessage.Srv;
import io.k3j.agent.dns.DnsMessage.Txt;
import java.net.InetAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DnsMessageTest {

    static DnsMessage fullReply() throws Exception {
        DnsMessage q = DnsMessage.query(0xBEEF, "web.default.svc.cluster.local", DnsMessage.SRV);
        q.udpSize = 4096;
        DnsMessage r = q.reply();
        r.aa = true;
        r.ra = true;
        String owner = "web.default.svc.cluster.local";
        r.answers.add(Rr.in(owner, 5, new Address(InetAddress.getByName("10.43.0.12"))));
        r.answers.add(Rr.in(owner, 5, new Address(InetAddress.getByName("fd00:43::c"))));
        r.answers.add(Rr.in(owner, 5, new Name(DnsMessage.CNAME, "web-0.web.default.svc.cluster.local")));
        r.answers.add(Rr.in("_http._tcp.web.default.svc.cluster.local", 5, new Srv(0, 100, 8080, "web-0.web.default.svc.cluster.local")));
        r.answers.add(Rr.in("12.0.43.10.in-addr.arpa", 5, new Name(DnsMessage.PTR, "web.default.svc.cluster.local")));
        r.answers.add(Rr.in("dns-version.cluster.local", 5, new Txt(List.of("1.1.0", "two words"))));
        r.authority.add(Rr.in("cluster.local", 5, new Soa("ns.dns.cluster.local", "hostmaster.cluster.local", 1700000000L, 7200, 1800, 86400, 5)));
        r.authority.add(Rr.in("cluster.local", 5, new Name(DnsMessage.NS, "ns.dns.cluster.local")));
        r.additional.add(Rr.in("ns.dns.cluster.local", 5, new Address(InetAddress.getByName("10.43.0.10"))));
        r.additional.add(new Rr("x.example", 99, DnsMessage.IN, 30, new Raw(99, new byte[] {1, 2, 3})));
        return r;
    }

    @Test
    @DisplayName("every record type survives encode then parse, with EDNS and the flags")
    void roundTrip() throws Exception {
        DnsMessage r = fullReply();
        byte[] wire = r.encode();
        DnsMessage back = DnsMessage.parse(wire);
        assertEquals(0xBEEF, back.id);
        assertTrue(back.qr && back.aa && back.ra && back.rd);
        assertFalse(back.tc);
        assertEquals(r.questions, back.questions);
        assertEquals(r.answers, back.answers);
        assertEquals(r.authority, back.authority);
        assertEquals(r.additional.get(0), back.additional.get(0));
        assertArrayEquals(((Raw) r.additional.get(1).data()).bytes(), ((Raw) back.additional.get(1).data()).bytes());
        assertEquals(ClusterDns.UDP_PAYLOAD, back.udpSize);
        // parse then encode is byte-identical
        assertArrayEquals(wire, back.encode());
    }

    @Test
    @DisplayName("names are compressed on write, case-insensitively, and the pointers read back")
    void compression() throws Exception {
        DnsMessage q = DnsMessage.query(1, "WEB.default.svc.cluster.local", DnsMessage.A);
        DnsMessage r = q.reply();
        for (int i = 0; i < 10; i++) {
            r.answers.add(Rr.in("web.default.svc.cluster.local", 5, new Address(InetAddress.getByName("10.42.0." + i))));
        }
        byte[] wire = r.encode();
        // header 12 + question (31 + 4) + 10 answers of (2-byte pointer + 10 + 4)
        assertEquals(12 + 35 + 10 * 16, wire.length);
        assertEquals((byte) 0xC0, wire[12 + 35]);
        assertEquals(12, wire[12 + 35 + 1]);
        DnsMessage back = DnsMessage.parse(wire);
        // the owner comes back as the question spells it: the pointer leads to the question's bytes
        assertEquals("WEB.default.svc.cluster.local", back.answers.get(9).name());

        // a suffix is shared too: svc.cluster.local of the second name points into the first
        DnsMessage r2 = q.reply();
        r2.answers.add(Rr.in("web.default.svc.cluster.local", 5, new Name(DnsMessage.CNAME, "db.other.svc.cluster.local")));
        byte[] w2 = r2.encode();
        assertEquals(12 + 35 + (2 + 10) + (3 + 6 + 2), w2.length);
        assertEquals("db.other.svc.cluster.local", ((Name) DnsMessage.parse(w2).answers.get(0).data()).target());
    }

    @Test
    @DisplayName("odd label bytes are escaped and come back the same")
    void escapes() throws Exception {
        String name = "a\\.b.c\\\\d.\\000\\255x.example";
        DnsMessage q = DnsMessage.query(7, name, DnsMessage.TXT);
        byte[] wire = q.encode();
        assertEquals(3, wire[12]);
        assertEquals('.', wire[14]);
        DnsMessage back = DnsMessage.parse(wire);
        assertEquals(name, back.questions.get(0).name());
        assertArrayEquals(wire, back.encode());
        assertEquals("", DnsMessage.parse(DnsMessage.query(1, "", DnsMessage.NS).encode()).questions.get(0).name());
        assertThrows(IllegalArgumentException.class, () -> DnsMessage.labels("a..b"));
        assertThrows(IllegalArgumentException.class, () -> DnsMessage.labels("x".repeat(64) + ".com"));
    }

    @Test
    @DisplayName("a reply too large for the client's UDP size is sent as header, question and OPT with TC")
    void truncation() throws Exception {
        DnsMessage q = DnsMessage.query(9, "big.default.svc.cluster.local", DnsMessage.A);
        DnsMessage r = q.reply();
        for (int i = 0; i < 60; i++) r.answers.add(Rr.in("big.default.svc.cluster.local", 5, new Address(InetAddress.getByName("10.42.1." + i))));
        assertEquals(512, q.maxUdpReply());
        byte[] small = r.encode(q.maxUdpReply());
        DnsMessage t = DnsMessage.parse(small);
        assertTrue(t.tc);
        assertTrue(t.answers.isEmpty());
        assertEquals(q.questions, t.questions);
        assertEquals(60, DnsMessage.parse(r.encode()).answers.size());

        q.udpSize = 4096; // the client offers more: fits in 1232 (ours is the cap)
        DnsMessage r2 = q.reply();
        r2.answers.addAll(r.answers);
        assertEquals(ClusterDns.UDP_PAYLOAD, q.maxUdpReply());
        DnsMessage big = DnsMessage.parse(r2.encode(q.maxUdpReply()));
        assertFalse(big.tc);
        assertEquals(60, big.answers.size());
        assertEquals(ClusterDns.UDP_PAYLOAD, big.udpSize);
        q.udpSize = 100; // below 512 means 512
        assertEquals(512, q.maxUdpReply());
    }

    static byte[] hex(String h) {
        return HexFormat.of().parseHex(h.replace(" ", ""));
    }

    @Test
    @DisplayName("malformed messages are FormatExceptions: short, pointer loops, forward pointers, overruns, trailing bytes")
    void malformed() {
        String header1q = "1234 0100 0001 0000 0000 0000";
        FormatException shortOne = assertThrows(FormatException.class, () -> DnsMessage.parse(hex("1234 0100 0001")));
        assertEquals(-1, shortOne.id);
        // a pointer to itself
        FormatException loop = assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "c00c 0001 0001")));
        assertEquals(0x1234, loop.id);
        // a label then a pointer back to that label: a loop too
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "0161 c00c 0001 0001")));
        // a pointer forwards
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "c010 0001 0001 0000")));
        // a label longer than the message
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "3f61 0001 0001")));
        // the reserved label types 01 and 10
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "4161 00 0001 0001")));
        // no room for type and class
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "0161 00 0001")));
        // bytes after the last section
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1q + "0161 00 0001 0001 ff")));
        // an answer whose RDLENGTH runs past the end, and an A record of 3 bytes
        String header1a = "1234 8100 0000 0001 0000 0000";
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1a + "00 0001 0001 00000005 0010 0a000001")));
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1a + "00 0001 0001 00000005 0003 0a0000")));
        // a CNAME whose name ends before its RDLENGTH does
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header1a + "00 0005 0001 00000005 0004 0161 00 00")));
        // two OPT records
        String header2ar = "1234 0100 0000 0000 0000 0002";
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(header2ar + "00 0029 1000 00000000 0000 00 0029 1000 00000000 0000")));
        // a name over 255 bytes built from pointers: 5 labels of 63 at the start, then a question reusing them
        StringBuilder sb = new StringBuilder("1234 0100 0001 0000 0000 0000");
        for (int i = 0; i < 5; i++) sb.append("3f").append("61".repeat(63));
        sb.append("00 0001 0001");
        assertThrows(FormatException.class, () -> DnsMessage.parse(hex(sb.toString())));
    }

    @Test
    @DisplayName("random corruption of a valid message never throws anything but FormatException")
    void fuzz() throws Exception {
        byte[] wire = fullReply().encode();
        Random rnd = new Random(42);
        int parsed = 0;
        for (int i = 0; i < 5_000; i++) {
            byte[] b = wire.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            int len = rnd.nextInt(4) == 0 ? rnd.nextInt(b.length + 1) : b.length;
            try {
                DnsMessage m = DnsMessage.parse(b, len);
                m.encode(); // whatever was read can be written again
                parsed++;
            } catch (FormatException expected) {
                // fine
            }
        }
        assertTrue(parsed > 0, "some corruptions leave a valid message");
    }
}
