/**
 * JMH benchmarks of Sluice's hot paths. Run them with
 * {@code java -jar sluice-bench/target/benchmarks.jar} after {@code ./mvnw -pl sluice-bench -am package};
 * figures and the exact commands are in {@code docs/benchmarks.md}.
 */
package io.sluice.bench;
