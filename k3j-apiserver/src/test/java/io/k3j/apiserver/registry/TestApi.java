package io.k3j.apiserver.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.core.BuiltinStrategy;
import io.k3j.apiserver.registry.core.NamespaceStrategy;
import io.k3j.apiserver.registry.core.PodStrategy;
import io.k3j.apiserver.registry.core.ServiceStrategy;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.WatchCache;
import io.k3j.store.memory.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * The API machinery of a control plane without HTTP: a {@link MemoryStore}, a started {@link WatchCache}, the
 * built-in resources and the strategies ControlPlane registers for them (mirroring its BuiltinStrategies), on
 * a clock the test moves.
 */
public final class TestApi implements AutoCloseable {
    public static final Instant T0 = Instant.parse("2025-01-02T03:04:05Z");

    public final MemoryStore store = new MemoryStore();
    public final WatchCache cache;
    public final ResourceRegistry registry = ResourceRegistry.withBuiltins();
    public final ServiceStrategy services = new ServiceStrategy("10.43.0.0/16");
    public final MutableClock clock = new MutableClock(T0);
    public final ObjectStore objects;

    private TestApi(int windowSize, boolean warmCaches) {
        cache = new WatchCache(store, windowSize);
        cache.start();
        if (warmCaches) for (ResourceType t : registry.all()) cache.cache(t.storagePrefix());
        ResourceStrategy plain = new BuiltinStrategy(Set.of());
        Strategies strategies = new Strategies()
                .register("", "Namespace", new NamespaceStrategy(plain))
                .register("", "Pod", new PodStrategy())
                .register("", "Service", services)
                .register("", "Secret", new BuiltinStrategy(Set.of("type")))
                .fallback(t -> plain);
        objects = new ObjectStore(store, cache, strategies, clock);
    }

    /** Every built-in resource cached from the start, as ControlPlane does, with namespace {@code default}. */
    public static TestApi start() {
        return start(10_000, true);
    }

    public static TestApi start(int windowSize, boolean warmCaches) {
        TestApi api = new TestApi(windowSize, warmCaches);
        api.namespace("default");
        return api;
    }

    public ResourceType type(String plural) {
        return type("", "v1", plural);
    }

    public ResourceType type(String group, String version, String plural) {
        return registry.find(group, version, plural).orElseThrow(() -> new IllegalArgumentException("no resource " + plural));
    }

    public ObjectNode namespace(String name) {
        return objects.create(type("namespaces"), null, json("{\"metadata\":{\"name\":\"" + name + "\"}}"), WriteOptions.system("test"));
    }

    public ObjectNode create(String plural, String namespace, String jsonText) {
        return create(type(plural), namespace, jsonText);
    }

    public ObjectNode create(ResourceType type, String namespace, String jsonText) {
        return objects.create(type, namespace, json(jsonText), WriteOptions.system("test"));
    }

    public ObjectNode configMap(String namespace, String name) {
        return create("configmaps", namespace, "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":\"v\"}}");
    }

    /** The object as a consistent read sees it, or null. */
    public ObjectNode find(String plural, String namespace, String name) {
        return objects.find(type(plural), namespace, name).orElse(null);
    }

    public static ObjectNode json(String text) {
        return Json.parseObject(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The ApiException {@code call} throws. */
    public static ApiException apiError(ThrowingCallable call) {
        Throwable t = Assertions.catchThrowable(call);
        Assertions.assertThat(t).as("expected an ApiException").isInstanceOf(ApiException.class);
        return (ApiException) t;
    }

    /** Polls until {@code condition} holds; fails with {@code what} after {@code timeout}. */
    public static void eventually(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) Assertions.fail("timed out after " + timeout + " waiting for: " + what);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Assertions.fail("interrupted waiting for: " + what);
            }
        }
    }

    /** Polls {@code value} until it is non-null. */
    public static <T> T eventuallyGet(Duration timeout, String what, Supplier<T> value) {
        Object[] box = new Object[1];
        eventually(timeout, what, () -> (box[0] = value.get()) != null);
        @SuppressWarnings("unchecked") T t = (T) box[0];
        return t;
    }

    @Override
    public void close() {
        cache.close();
        store.close();
    }

    /** A clock tests move by hand. */
    public static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        public void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
