/**
 * The Java client of Sluice: {@link io.sluice.client.SluiceClient} logs events and builds
 * {@link io.sluice.client.ConsumerLoop}s that consume them with durable progress.
 *
 * <pre>{@code
 * SluiceClient client = SluiceClient.connect("http://127.0.0.1:8470");
 * client.log("user.bought_shirt", Map.of("user", "gordon", "quantity", 2));
 * try (ConsumerLoop loop = client.consumer("shop")
 *         .on("user.*", event -> System.out.println(event.data()))
 *         .start()) {
 *     ...
 * }
 * }</pre>
 */
package io.sluice.client;
