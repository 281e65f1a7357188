package io.k3j.agent.dns;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A DNS message (RFC 1035 section 4) and its wire codec: header, questions, and resource records of the types a
 * cluster DNS answers with (A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT) plus EDNS0's OPT (RFC 6891), which is folded into
 * {@link #udpSize} / {@link #ednsVersion} / the extended rcode instead of being kept as a record. Records of other
 * types keep their RDATA as bytes.
 *
 * <p>Names are in presentation form without the final dot ({@code web.default.svc.cluster.local}; the root is the
 * empty string), label bytes outside printable ASCII and the characters {@code .} and {@code \} escaped as RFC 1035
 * section 5.1 does, so any name on the wire survives a round trip. Reading follows compression pointers, which must
 * point backwards (no loops) and may not make a name longer than 255 bytes; writing compresses owner names and the
 * names inside CNAME, NS, PTR and SOA RDATA (RFC 3597 section 4 forbids it for newer types such as SRV).
 *
 * <p>Not thread-safe: one message is built or read by one thread.
 */
final class DnsMessage {
    static final int A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, TXT = 16, AAAA = 28, SRV = 33, OPT = 41, ANY = 255;
    static final int IN = 1;
    static final int NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4, REFUSED = 5, BADVERS = 16;
    /** Below this the OPT record's payload size means 512 (RFC 6891 section 6.2.5). */
    static final int MIN_UDP = 512;

    int id;
    boolean qr, aa, tc, rd, ra, ad, cd;
    int opcode;
    /** The full 12-bit rcode: values above 15 need an OPT record to carry their upper bits. */
    int rcode;
    final List<Question> questions = new ArrayList<>(1);
    final List<Rr> answers = new ArrayList<>();
    final List<Rr> authority = new ArrayList<>();
    final List<Rr> additional = new ArrayList<>();
    /** The OPT record's UDP payload size, or -1 when the message has no OPT record (no EDNS). */
    int udpSize = -1;
    int ednsVersion;
    boolean dnssecOk;

    /** One question. */
    record Question(String name, int type, int klass) {
    }

    /** One resource record. */
    record Rr(String name, int type, int klass, long ttl, Rdata data) {
        static Rr in(String name, long ttl, Rdata data) {
            return new Rr(name, data.type(), IN, ttl, data);
        }
    }

    /** Typed RDATA. */
    sealed interface Rdata permits Address, Name, Srv, Soa, Txt, Raw {
        int type();
    }

    /** A (4 bytes) or AAAA (16 bytes). */
    record Address(InetAddress address) implements Rdata {
        @Override
        public int type() {
            return address.getAddress().length == 4 ? A : AAAA;
        }
    }

    /** CNAME, NS or PTR: one domain name. */
    record Name(int type, String target) implements Rdata {
    }

    /** RFC 2782. */
    record Srv(int priority, int weight, int port, String target) implements Rdata {
        @Override
        public int type() {
            return SRV;
        }
    }

    record Soa(String mname, String rname, long serial, long refresh, long retry, long expire, long minimum) implements Rdata {
        @Override
        public int type() {
            return SOA;
        }
    }

    /** TXT: character strings of up to 255 bytes each. */
    record Txt(List<String> strings) implements Rdata {
        @Override
        public int type() {
            return TXT;
        }
    }

    /** Any other type, RDATA kept as is. */
    record Raw(int type, byte[] bytes) implements Rdata {
    }

    /** A message that cannot be read; {@link #id} is the query's ID when the header was complete, else -1. */
    static final class FormatException extends Exception {
        final int id;

        FormatException(String message, int id) {
            super(message);
            this.id = id;
        }
    }

    // ---- building ------------------------------------------------------------------------------------------

    /** A recursive query for {@code name}/{@code type}, as a stub resolver sends it. */
    static DnsMessage query(int id, String name, int type) {
        DnsMessage m = new DnsMessage();
        m.id = id;
        m.rd = true;
        m.questions.add(new Question(name, type, IN));
        return m;
    }

    /** The reply skeleton for this query: same ID, opcode, RD, CD and question; EDNS echoed when the query had it. */
    DnsMessage reply() {
        DnsMessage r = new DnsMessage();
        r.id = id;
        r.qr = true;
        r.opcode = opcode;
        r.rd = rd;
        r.cd = cd;
        r.questions.addAll(questions);
        if (udpSize >= 0) {
            r.udpSize = ClusterDns.UDP_PAYLOAD;
            r.dnssecOk = dnssecOk;
        }
        return r;
    }

    /** How large a UDP reply to this query may be (RFC 6891 section 6.2.5): 512 without EDNS. */
    int maxUdpReply() {
        return udpSize < 0 ? MIN_UDP : Math.max(MIN_UDP, Math.min(udpSize, ClusterDns.UDP_PAYLOAD));
    }

    // ---- reading -------------------------------------------------------------------------------------------

    static DnsMessage parse(byte[] buf) throws FormatException {
        return parse(buf, buf.length);
    }

    /**
     * Reads a whole message.
     *
     * @throws FormatException for truncated data, bad pointers, lengths that overrun, more than one OPT record
     */
    static DnsMessage parse(byte[] buf, int length) throws FormatException {
        if (length < 12) throw new FormatException("message of " + length + " bytes (expected: >= 12)", -1);
        Reader r = new Reader(buf, length);
        DnsMessage m = new DnsMessage();
        m.id = r.u16();
        try {
            int flags = r.u16();
            m.qr = (flags & 0x8000) != 0;
            m.opcode = (flags >> 11) & 0xF;
            m.aa = (flags & 0x0400) != 0;
            m.tc = (flags & 0x0200) != 0;
            m.rd = (flags & 0x0100) != 0;
            m.ra = (flags & 0x0080) != 0;
            m.ad = (flags & 0x0020) != 0;
            m.cd = (flags & 0x0010) != 0;
            m.rcode = flags & 0xF;
            int qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
            for (int i = 0; i < qd; i++) m.questions.add(new Question(r.name(), r.u16(), r.u16()));
            for (int i = 0; i < an; i++) m.answers.add(r.rr());
            for (int i = 0; i < ns; i++) m.authority.add(r.rr());
            for (int i = 0; i < ar; i++) {
                Rr rr = r.rr();
                if (rr.type() == OPT) {
                    if (m.udpSize >= 0) throw new FormatException("more than one OPT record", m.id);
                    if (!rr.name().isEmpty()) throw new FormatException("OPT record not owned by the root", m.id);
                    m.udpSize = rr.klass();
                    m.rcode |= (int) ((rr.ttl() >>> 24) & 0xFF) << 4;
                    m.ednsVersion = (int) ((rr.ttl() >>> 16) & 0xFF);
                    m.dnssecOk = (rr.ttl() & 0x8000) != 0;
                } else {
                    m.additional.add(rr);
                }
            }
            if (r.pos != length) throw new FormatException((length - r.pos) + " bytes after the last record", m.id);
            return m;
        } catch (IndexOutOfBoundsException e) {
            throw new FormatException("message ends early", m.id);
        } catch (FormatException e) {
            // the readers below the header don't know the ID; the caller's FORMERR needs it
            throw e.id >= 0 ? e : new FormatException(e.getMessage(), m.id);
        }
    }

    /** Reads the ID of a message that may be malformed otherwise; -1 if shorter than 2 bytes. */
    static int peekId(byte[] buf, int length) {
        return length < 2 ? -1 : ((buf[0] & 0xFF) << 8) | (buf[1] & 0xFF);
    }

    private static final class Reader {
        final byte[] buf;
        final int limit;
        int pos;

        Reader(byte[] buf, int limit) {
            this.buf = buf;
            this.limit = limit;
        }

        int u8() {
            if (pos >= limit) throw new IndexOutOfBoundsException();
            return buf[pos++] & 0xFF;
        }

        int u16() {
            return (u8() << 8) | u8();
        }

        long u32() {
            return ((long) u16() << 16) | u16();
        }

        String name() throws FormatException {
            int[] end = {-1};
            String n = nameAt(pos, end);
            pos = end[0];
            return n;
        }

        /** Reads the name at {@code start}; end[0] gets the offset after its in-place part. */
        String nameAt(int start, int[] end) throws FormatException {
            StringBuilder sb = new StringBuilder();
            int p = start;
            int wireLength = 1;
            // a pointer must go strictly backwards from the label that holds it, so following them always ends
            int floor = start;
            while (true) {
                if (p >= limit) throw new IndexOutOfBoundsException();
                int len = buf[p] & 0xFF;
                if ((len & 0xC0) == 0xC0) {
                    if (p + 1 >= limit) throw new IndexOutOfBoundsException();
                    int target = ((len & 0x3F) << 8) | (buf[p + 1] & 0xFF);
                    if (end[0] < 0) end[0] = p + 2;
                    if (target >= floor) throw new FormatException("compression pointer at " + p + " does not point backwards", -1);
                    floor = target;
                    p = target;
                    continue;
                }
                if ((len & 0xC0) != 0) throw new FormatException("label type 0x" + Integer.toHexString(len & 0xC0) + " at " + p, -1);
                if (len == 0) {
                    if (end[0] < 0) end[0] = p + 1;
                    return sb.toString();
                }
                wireLength += len + 1;
                if (wireLength > 255) throw new FormatException("name longer than 255 bytes", -1);
                if (p + 1 + len > limit) throw new IndexOutOfBoundsException();
                if (!sb.isEmpty()) sb.append('.');
                appendLabel(sb, buf, p + 1, len);
                p += 1 + len;
            }
        }

        Rr rr() throws FormatException {
            String name = name();
            int type = u16(), klass = u16();
            long ttl = u32();
            int rdlen = u16();
            int stop = pos + rdlen;
            if (stop > limit) throw new IndexOutOfBoundsException();
            Rdata data;
            try {
                data = switch (type) {
                    case A, AAAA -> {
                        if (rdlen != (type == A ? 4 : 16)) throw new FormatException("RDATA of " + rdlen + " bytes for type " + type, -1);
                        byte[] b = new byte[rdlen];
                        System.arraycopy(buf, pos, b, 0, rdlen);
                        yield new Address(InetAddress.getByAddress(b));
                    }
                    case CNAME, NS, PTR -> new Name(type, name());
                    case SRV -> new Srv(u16(), u16(), u16(), name());
                    case SOA -> new Soa(name(), name(), u32(), u32(), u32(), u32(), u32());
                    case TXT -> {
                        List<String> strings = new ArrayList<>();
                        while (pos < stop) {
                            int n = u8();
                            if (pos + n > stop) throw new IndexOutOfBoundsException();
                            strings.add(new String(buf, pos, n, StandardCharsets.ISO_8859_1));
                            pos += n;
                        }
                        yield new Txt(strings);
                    }
                    default -> {
                        byte[] b = new byte[rdlen];
                        System.arraycopy(buf, pos, b, 0, rdlen);
                        yield new Raw(type, b);
                    }
                };
            } catch (UnknownHostException e) {
                throw new FormatException("bad address", -1);
            }
            if (type == A || type == AAAA || data instanceof Raw) pos = stop;
            if (pos != stop) throw new FormatException("RDATA length " + rdlen + " does not match its content", -1);
            return new Rr(name, type, klass, ttl, data);
        }
    }

    private static void appendLabel(StringBuilder sb, byte[] buf, int off, int len) {
        for (int i = off; i < off + len; i++) {
            int c = buf[i] & 0xFF;
            if (c == '.' || c == '\\') {
                sb.append('\\').append((char) c);
            } else if (c < 0x21 || c > 0x7E) {
                sb.append('\\').append((char) ('0' + c / 100)).append((char) ('0' + c / 10 % 10)).append((char) ('0' + c % 10));
            } else {
                sb.append((char) c);
            }
        }
    }

    // ---- writing -------------------------------------------------------------------------------------------

    /** The message on the wire, whatever its size (TCP, or a query). */
    byte[] encode() {
        return encode(65535);
    }

    /**
     * The message on the wire in at most {@code maxSize} bytes: when the records don't fit, the reply carries only
     * its header, question and OPT record with the TC bit set (RFC 2181 section 9: the client retries over TCP).
     */
    byte[] encode(int maxSize) {
        Writer w = write(false);
        if (w.pos <= maxSize) return w.bytes();
        return write(true).bytes();
    }

    private Writer write(boolean truncated) {
        Writer w = new Writer();
        w.u16(id);
        int flags = (qr ? 0x8000 : 0) | (opcode & 0xF) << 11 | (aa ? 0x0400 : 0) | (tc || truncated ? 0x0200 : 0)
                | (rd ? 0x0100 : 0) | (ra ? 0x0080 : 0) | (ad ? 0x0020 : 0) | (cd ? 0x0010 : 0) | (rcode & 0xF);
        w.u16(flags);
        w.u16(questions.size());
        w.u16(truncated ? 0 : answers.size());
        w.u16(truncated ? 0 : authority.size());
        w.u16((truncated ? 0 : additional.size()) + (udpSize >= 0 ? 1 : 0));
        for (Question q : questions) {
            w.name(q.name(), true);
            w.u16(q.type());
            w.u16(q.klass());
        }
        if (!truncated) {
            for (Rr rr : answers) w.rr(rr);
            for (Rr rr : authority) w.rr(rr);
            for (Rr rr : additional) w.rr(rr);
        }
        if (udpSize >= 0) {
            w.u8(0); // root
            w.u16(OPT);
            w.u16(udpSize);
            w.u32(((long) (rcode >> 4) & 0xFF) << 24 | ((long) ednsVersion & 0xFF) << 16 | (dnssecOk ? 0x8000 : 0));
            w.u16(0);
        }
        return w;
    }

    private static final class Writer {
        byte[] buf = new byte[512];
        int pos;
        /** Lower-cased name suffixes already written and where they start (names compare case-insensitively). */
        final Map<String, Integer> offsets = new HashMap<>();

        byte[] bytes() {
            byte[] b = new byte[pos];
            System.arraycopy(buf, 0, b, 0, pos);
            return b;
        }

        void ensure(int n) {
            if (pos + n > buf.length) {
                byte[] b = new byte[Math.max(buf.length * 2, pos + n)];
                System.arraycopy(buf, 0, b, 0, pos);
                buf = b;
            }
        }

        void u8(int v) {
            ensure(1);
            buf[pos++] = (byte) v;
        }

        void u16(int v) {
            ensure(2);
            buf[pos++] = (byte) (v >> 8);
            buf[pos++] = (byte) v;
        }

        void u32(long v) {
            u16((int) (v >>> 16) & 0xFFFF);
            u16((int) v & 0xFFFF);
        }

        void name(String name, boolean compress) {
            List<byte[]> labels = labels(name);
            for (int i = 0; i < labels.size(); i++) {
                String suffix = null;
                if (compress) {
                    suffix = suffixKey(labels, i);
                    Integer at = offsets.get(suffix);
                    if (at != null) {
                        u16(0xC000 | at);
                        return;
                    }
                }
                if (compress && pos < 0x4000) offsets.put(suffix, pos);
                byte[] l = labels.get(i);
                u8(l.length);
                ensure(l.length);
                System.arraycopy(l, 0, buf, pos, l.length);
                pos += l.length;
            }
            u8(0);
        }

        void rr(Rr rr) {
            name(rr.name(), true);
            u16(rr.type());
            u16(rr.klass());
            u32(rr.ttl());
            int lenAt = pos;
            u16(0);
            int start = pos;
            switch (rr.data()) {
                case Address a -> {
                    byte[] b = a.address().getAddress();
                    ensure(b.length);
                    System.arraycopy(b, 0, buf, pos, b.length);
                    pos += b.length;
                }
                case Name n -> name(n.target(), true);
                case Srv s -> {
                    u16(s.priority());
                    u16(s.weight());
                    u16(s.port());
                    name(s.target(), false);
                }
                case Soa s -> {
                    name(s.mname(), true);
                    name(s.rname(), true);
                    u32(s.serial());
                    u32(s.refresh());
                    u32(s.retry());
                    u32(s.expire());
                    u32(s.minimum());
                }
                case Txt t -> {
                    for (String s : t.strings()) {
                        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
                        int n = Math.min(255, b.length);
                        u8(n);
                        ensure(n);
                        System.arraycopy(b, 0, buf, pos, n);
                        pos += n;
                    }
                }
                case Raw r -> {
                    ensure(r.bytes().length);
                    System.arraycopy(r.bytes(), 0, buf, pos, r.bytes().length);
                    pos += r.bytes().length;
                }
            }
            int len = pos - start;
            buf[lenAt] = (byte) (len >> 8);
            buf[lenAt + 1] = (byte) len;
        }
    }

    private static String suffixKey(List<byte[]> labels, int from) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < labels.size(); i++) {
            byte[] l = labels.get(i);
            // length-prefixed so that a label holding a dot can't collide with two labels
            sb.append((char) l.length);
            for (byte b : l) sb.append((char) (b >= 'A' && b <= 'Z' ? b + 32 : b & 0xFF));
        }
        return sb.toString();
    }

    /**
     * The wire labels of a presentation-form name (escapes {@code \.}, {@code \\} and {@code \DDD} undone).
     *
     * @throws IllegalArgumentException for an empty or over-long label or a name over 255 bytes
     */
    static List<byte[]> labels(String name) {
        List<byte[]> out = new ArrayList<>();
        if (name.isEmpty() || name.equals(".")) return out;
        byte[] cur = new byte[63];
        int n = 0, total = 1;
        int len = name.endsWith(".") && !name.endsWith("\\.") ? name.length() - 1 : name.length();
        for (int i = 0; i <= len; i++) {
            if (i == len || name.charAt(i) == '.') {
                if (n == 0) throw new IllegalArgumentException("empty label in " + name);
                byte[] l = new byte[n];
                System.arraycopy(cur, 0, l, 0, n);
                out.add(l);
                total += n + 1;
                n = 0;
                continue;
            }
            int c = name.charAt(i);
            if (c == '\\' && i + 1 < len) {
                if (i + 3 < len && isDigit(name.charAt(i + 1)) && isDigit(name.charAt(i + 2)) && isDigit(name.charAt(i + 3))) {
                    c = Integer.parseInt(name.substring(i + 1, i + 4));
                    if (c > 255) throw new IllegalArgumentException("escape \\" + c + " in " + name);
                    i += 3;
                } else {
                    c = name.charAt(++i);
                }
            }
            if (n == 63) throw new IllegalArgumentException("label longer than 63 bytes in " + name);
            cur[n++] = (byte) c;
        }
        if (total > 255) throw new IllegalArgumentException("name longer than 255 bytes: " + name);
        return out;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Lower-cases ASCII letters only (DNS names compare case-insensitively in ASCII, RFC 4343). */
    static String lower(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') return name.toLowerCase(Locale.ROOT);
        }
        return name;
    }

    @Override
    public String toString() {
        return "DnsMessage{id=" + id + ", rcode=" + rcode + (tc ? ", TC" : "") + (aa ? ", AA" : "") + ", q=" + questions
                + ", an=" + answers + ", ns=" + authority + ", ar=" + additional + (udpSize >= 0 ? ", edns=" + udpSize : "") + "}";
    }
}
