/**
 * Realistic workloads for tests and benchmarks: OpenStack notification sequences expanded from
 * the StackTach notigen templates ({@link io.sluice.testkit.Notifications}) and standing query
 * sets over them ({@link io.sluice.testkit.QueryWorkload}). Deterministic for a given seed.
 */
package io.sluice.testkit;
