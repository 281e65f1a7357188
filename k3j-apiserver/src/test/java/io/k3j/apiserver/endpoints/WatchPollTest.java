package io.k3j.apiserver.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** How long a watch's serving loop waits for the next event. */
class WatchPollTest {

    @Test
    @DisplayName("a watch without bookmarks waits until its deadline, also after the bookmark time has passed (it spun, starving the server)")
    void withoutBookmarksWaitsForTheDeadline() {
        long start = 1_000_000;
        long deadline = start + 1_800_000;
        long nextBookmark = start + 60_000;
        assertThat(WatchServer.pollMillis(start + 61_000, deadline, nextBookmark, false)).isEqualTo(1_739_000);
        assertThat(WatchServer.pollMillis(start + 10_000, deadline, nextBookmark, false)).isEqualTo(1_790_000);
    }

    @Test
    @DisplayName("a watch with bookmarks waits until the next bookmark is due, then not at all until it is written")
    void withBookmarksWaitsForTheBookmark() {
        long start = 1_000_000;
        assertThat(WatchServer.pollMillis(start + 10_000, start + 1_800_000, start + 60_000, true)).isEqualTo(50_000);
        assertThat(WatchServer.pollMillis(start + 61_000, start + 1_800_000, start + 60_000, true)).isZero();
        assertThat(WatchServer.pollMillis(start + 10_000, start + 20_000, start + 60_000, true)).isEqualTo(10_000);
    }
}
