/**
 * Components: the {@link io.sluice.api.component.Spec} that declares a component's settings
 * once, and the SPI of the parts the framework drives.
 *
 * <pre>
 *   config mapping ──► Spec.read ──► Settings ──► factory ──► Sink
 *   reader ──► Message ──► framework (order, retries, dead letters) ──► Sink.send
 * </pre>
 */
package io.sluice.api.component;
