package io.k3j.store.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The hand-written protobuf encoding, byte for byte where protobuf fixes it, without an etcd. */
class EtcdProtoTest {

    @Test
    @DisplayName("a RangeRequest is the bytes protoc's encoder writes: tags, varints, defaults left out")
    void rangeRequest() {
        byte[] b = EtcdProto.range("/a".getBytes(UTF_8), "/b".getBytes(UTF_8), 0, 300, true).toByteArray();
        // key=1 "/a", range_end=2 "/b", revision=4 300 (varint ac 02), count_only=9 true; limit 0 left out
        assertThat(HexFormat.of().formatHex(b)).isEqualTo("0a022f61" + "12022f62" + "20ac02" + "4801");
    }

    @Test
    @DisplayName("'create_revision == 0' keeps its zero: a oneof member's presence is the condition")
    void compareWithZero() {
        byte[] b = EtcdProto.compare("k".getBytes(UTF_8), EtcdProto.TARGET_CREATE, EtcdProto.CREATE_REVISION, 0).toByteArray();
        // result EQUAL (0) left out, target=2 CREATE (1), key=3 "k", create_revision=5 0
        assertThat(HexFormat.of().formatHex(b)).isEqualTo("1001" + "1a016b" + "2800");
    }

    @Test
    @DisplayName("a WatchResponse decodes with its events, and fields unknown to this client (varint and length-delimited) are skipped")
    void watchResponse() {
        ProtoWriter kv = new ProtoWriter().bytes(1, "/k".getBytes(UTF_8)).uint64(2, 5).uint64(3, 7).uint64(4, 2)
                .bytes(5, "v".getBytes(UTF_8)).uint64(6, 99);
        ProtoWriter prev = new ProtoWriter().bytes(1, "/k".getBytes(UTF_8)).uint64(2, 5).uint64(3, 5).uint64(4, 1);
        ProtoWriter event = new ProtoWriter().uint64(1, EtcdProto.EVENT_PUT).message(2, kv).message(3, prev);
        ProtoWriter header = new ProtoWriter().uint64(1, 11).uint64(2, 12).uint64(3, 7).uint64(4, 3);
        byte[] b = new ProtoWriter().message(1, header).uint64(2, 4).string(6, "").message(11, event)
                .string(99, "from a newer etcd").uint64(100, 1L << 40).toByteArray();
        EtcdProto.WatchResponse r = EtcdProto.watchResponse(new ProtoReader(b));
        assertThat(r.header().revision()).isEqualTo(7);
        assertThat(r.header().memberId()).isEqualTo(12);
        assertThat(r.watchId()).isEqualTo(4);
        assertThat(r.created()).isFalse();
        assertThat(r.events()).hasSize(1);
        EtcdProto.Event e = r.events().getFirst();
        assertThat(new String(e.kv().key(), UTF_8)).isEqualTo("/k");
        assertThat(e.kv().modRevision()).isEqualTo(7);
        assertThat(e.kv().version()).isEqualTo(2);
        assertThat(e.prevKv().modRevision()).isEqualTo(5);
    }

    @Test
    @DisplayName("member IDs use all 64 bits (etcd's are random uint64), and member answers decode with their URLs")
    void members() {
        long id = 0xd3c02e9374dbdc73L; // negative as a Java long
        ProtoWriter m = new ProtoWriter().uint64(1, id).string(2, "m0").string(3, "http://127.0.0.1:2380")
                .string(4, "http://127.0.0.1:2379").bool(5, true);
        byte[] add = new ProtoWriter().message(1, new ProtoWriter()).message(2, m).message(3, m).toByteArray();
        EtcdProto.MembersResponse r = EtcdProto.membersResponse(new ProtoReader(add), true);
        assertThat(r.member().id()).isEqualTo(id);
        assertThat(r.member().peerUrls()).isEqualTo(List.of("http://127.0.0.1:2380"));
        assertThat(r.member().learner()).isTrue();
        assertThat(r.members()).hasSize(1);
    }

    @Test
    @DisplayName("a truncated message fails with a clear error instead of reading past its end")
    void truncated() {
        byte[] b = EtcdProto.range("/abc".getBytes(UTF_8), null, 0, 0, false).toByteArray();
        byte[] cut = java.util.Arrays.copyOf(b, b.length - 1);
        assertThatThrownBy(() -> EtcdProto.rangeResponse(new ProtoReader(cut))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("truncated");
    }

    @Test
    @DisplayName("prefix ends: the last byte below 0xff goes up by one; all-0xff and empty prefixes have no end")
    void prefixEnd() {
        assertThat(EtcdStore.prefixEnd("/a/".getBytes(UTF_8))).isEqualTo("/a0".getBytes(UTF_8));
        assertThat(EtcdStore.prefixEnd(new byte[] {'a', (byte) 0xff})).isEqualTo(new byte[] {'b'});
        assertThat(EtcdStore.prefixEnd(new byte[] {(byte) 0xff})).isEqualTo(new byte[] {0});
        assertThat(EtcdStore.prefixEnd(new byte[0])).isEqualTo(new byte[] {0});
    }
}
