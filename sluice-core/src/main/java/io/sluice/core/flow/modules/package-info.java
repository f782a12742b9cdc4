/**
 * The built-in flow modules, each a small class with its {@code TYPE}: spec (arguments,
 * defaults, documentation), queues and factory. {@link io.sluice.core.flow.modules.FlowModules}
 * lists them all.
 */
package io.sluice.core.flow.modules;
