package io.k3j.store;

import java.util.List;

/** Receives a watch's events in revision order; events of one revision arrive in one call. */
public interface WatchListener {
    void onEvents(List<Event> events);

    /** The watch ended because of {@code error} (store closed, fell too far behind); no more calls follow. */
    default void onError(Throwable error) {}
}
