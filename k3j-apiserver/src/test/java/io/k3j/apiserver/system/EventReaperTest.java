package io.k3j.apiserver.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.testing.TestServers;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventReaperTest {
    @TempDir Path dir;

    @Test
    void deletesEventsLastRecordedLongerAgoThanTheTtl() {
        try (ControlPlane cp = TestServers.start(dir)) {
            ResourceType events = cp.registry().find("", "v1", "events").orElseThrow();
            Instant now = Instant.now();
            cp.objects().create(events, "default", event("once", now.toString()), WriteOptions.system("test"));
            // recorded again 50 minutes later (a repeat raises count and lastTimestamp)
            cp.objects().create(events, "default", event("repeated", now.plus(Duration.ofMinutes(50)).toString()), WriteOptions.system("test"));
            assertThat(reaperAt(cp, now.plus(Duration.ofMinutes(30))).reap()).isZero();
            assertThat(reaperAt(cp, now.plus(Duration.ofMinutes(62))).reap()).isEqualTo(1);
            assertThat(cp.objects().find(events, "default", "once")).isEmpty();
            assertThat(cp.objects().find(events, "default", "repeated")).isPresent();
            assertThat(reaperAt(cp, now.plus(Duration.ofMinutes(112))).reap()).isEqualTo(1);
            assertThat(EventReaper.lastRecorded(event("x", "2026-11-25T10:30:00Z"))).isEqualTo(Instant.parse("2026-11-25T10:30:00Z"));
        }
    }

    private static EventReaper reaperAt(ControlPlane cp, Instant now) {
        return new EventReaper(cp.objects(), cp.registry(), Clock.fixed(now, ZoneOffset.UTC), Duration.ofHours(1));
    }

    private static ObjectNode event(String name, String last) {
        ObjectNode e = Json.object();
        e.put("apiVersion", "v1").put("kind", "Event");
        e.putObject("metadata").put("name", name).put("namespace", "default");
        e.putObject("involvedObject").put("kind", "Pod").put("name", "p").put("namespace", "default");
        e.put("reason", "Test").put("message", "m").put("type", "Normal").put("lastTimestamp", last).put("firstTimestamp", last);
        return e;
    }
}
