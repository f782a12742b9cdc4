/**
 * Named consumers with durable progress (PyMonster, done right).
 *
 * <pre>
 *  next(name, max) ──► expired leases first (redelivery), then events after the scan position
 *                      that pass the consumer's filter ──► leased to the caller for `lease`
 *  ack(name, offsets) ──► done ──► checkpoint advances over every contiguous done offset
 *                                   ──► saved durably with the consumer's definition
 * </pre>
 *
 * At-least-once: an event is never lost (unacknowledged events are delivered again when their
 * lease expires, and after a restart from the checkpoint), and a receiver can de-duplicate by
 * event id.
 */
package io.sluice.core.consume;
