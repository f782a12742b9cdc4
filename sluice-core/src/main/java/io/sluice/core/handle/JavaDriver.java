package io.sluice.core.handle;

import io.sluice.api.handler.Handler;
import io.sluice.api.handler.Invocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code driver: java}: calls a {@link Handler} implementation, made once from its class name
 * through the server's plugin class loader (the classpath and the jars in {@code plugins_dir}).
 * A returned value is the run's output; an exception fails the run with its message. A Java
 * handler runs on Sluice's own threads, so its timeout cannot stop it: it is the handler's job
 * to return in time (the run's duration is recorded).
 */
final class JavaDriver implements Driver {
    private static final Logger LOG = LoggerFactory.getLogger(JavaDriver.class);

    private final Handler handler;
    private final int maxOutput;

    JavaDriver(String className, ClassLoader loader, long maxOutput) {
        this.maxOutput = (int) Math.min(maxOutput, Integer.MAX_VALUE);
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException(
                    "no class " + className + " on the classpath or in plugins_dir (" + e + ")", e);
        }
        if (!Handler.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(className + " does not implement " + Handler.class.getName());
        }
        try {
            this.handler = (Handler) type.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(className + " has no public constructor without arguments", e);
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("cannot make a " + className + ": " + cause, e);
        }
    }

    @Override
    public Outcome run(Invocation inv) {
        try {
            String out = handler.handle(inv);
            return new Outcome(Status.OK, null, truncate(out), null);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new Outcome(Status.FAILED, null, null, truncate(e.toString()));
        } catch (StackOverflowError | LinkageError | AssertionError e) {
            return new Outcome(Status.FAILED, null, null, truncate(e.toString()));
        }
    }

    private String truncate(String s) {
        return s == null || s.length() <= maxOutput ? s : s.substring(0, maxOutput) + "… [truncated]";
    }

    @Override
    public void close() {
        try {
            handler.close();
        } catch (RuntimeException e) {
            LOG.warn("closing handler {} failed: {}", handler.getClass().getName(), e.toString());
        }
    }
}
