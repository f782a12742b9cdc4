/**
 * Flow modules (Compysition): isolated modules that interact only by passing {@link
 * io.sluice.api.flow.FlowEvent}s through each other's bounded queues.
 *
 * <pre>
 *   input module ──outbox──► [queue] ──inbox──► module ──outbox──► [queue] ──inbox──► module
 *        run()                 bounded:          consume()          a full queue
 *                              blocks the                           blocks the sender
 *                              sender                                 (backpressure)
 * </pre>
 *
 * A module is written against {@link io.sluice.api.flow.Module} (or {@link
 * io.sluice.api.flow.InputModule} when it produces events) and described by a {@link
 * io.sluice.api.flow.ModuleType}; plugin jars offer theirs through a {@link
 * io.sluice.api.flow.ModuleProvider}.
 */
package io.sluice.api.flow;
