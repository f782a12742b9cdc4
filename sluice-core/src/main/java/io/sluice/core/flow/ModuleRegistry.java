package io.sluice.core.flow;

import io.sluice.api.flow.ModuleProvider;
import io.sluice.api.flow.ModuleType;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The module types a flow may use, by name. Flow files may also write a dotted name ending in
 * one ({@code wishbone.flow.fanout}, {@code compysition.module.fanout}), as Wishbone's and
 * Compysition's bootstrap files did.
 */
public final class ModuleRegistry {
    private final Map<String, ModuleType> types = new LinkedHashMap<>();

    /** Adds a type; a second type of the same name is refused. */
    public ModuleRegistry register(ModuleType type) {
        if (types.putIfAbsent(type.name(), type) != null) {
            throw new IllegalStateException("two module types are named '" + type.name() + "'");
        }
        return this;
    }

    /** Adds the types every {@link ModuleProvider} on the class loader offers (plugin jars). */
    public ModuleRegistry registerProviders(ClassLoader loader) {
        for (ModuleProvider p : ServiceLoader.load(ModuleProvider.class, loader)) {
            p.modules().forEach(this::register);
        }
        return this;
    }

    /** The type a flow file names, or null: the name itself, else its last dotted part. */
    public ModuleType lookup(String name) {
        ModuleType t = types.get(name);
        if (t == null && name.contains(".")) {
            t = types.get(name.substring(name.lastIndexOf('.') + 1));
        }
        return t;
    }

    /** Every type, in registration order. */
    public Collection<ModuleType> types() {
        return types.values();
    }
}
