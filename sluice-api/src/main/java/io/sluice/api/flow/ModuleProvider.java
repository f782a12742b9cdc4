package io.sluice.api.flow;

import java.util.List;

/**
 * Offers module types from a plugin jar: list the implementing class in
 * {@code META-INF/services/io.sluice.api.flow.ModuleProvider} and put the jar in the server's
 * {@code plugins_dir}. A type whose name is already taken is refused.
 */
public interface ModuleProvider {
    /** The module types this plugin offers. */
    List<ModuleType> modules();
}
