package io.sluice.store.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The PostgreSQL that tests use: {@code SLUICE_TEST_POSTGRES_URL} (a JDBC URL) when set, else
 * the machine's server at 127.0.0.1:5432, database {@code test}, when it answers, else an
 * embedded PostgreSQL started once per test JVM ({@code SLUICE_TEST_POSTGRES_URL=embedded} forces it). Tests share the database, so each uses
 * schemas of its own ({@link #newSchema}).
 */
public final class TestPostgres {
    /** The environment variable naming the database to test against. */
    public static final String ENV = "SLUICE_TEST_POSTGRES_URL";

    private static final String LOCAL = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&connectTimeout=3";
    private static String url;

    private TestPostgres() {}

    /** The JDBC URL of the test database. */
    public static synchronized String url() {
        if (url == null) {
            url = locate();
        }
        return url;
    }

    private static String locate() {
        String configured = System.getenv(ENV);
        if (configured != null && !configured.isBlank() && !configured.equals("embedded")) {
            return configured;
        }
        if (configured == null || configured.isBlank()) {
            try (Connection c = DriverManager.getConnection(LOCAL)) {
                return LOCAL;
            } catch (SQLException unreachable) {
                // fall through to the embedded one
            }
        }
        return startEmbedded();
    }

    private static String startEmbedded() {
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }));
            return pg.getJdbcUrl("postgres", "postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("no PostgreSQL at " + LOCAL + " and the embedded one did not start", e);
        }
    }

    /** A schema name no other test run uses. */
    public static String newSchema() {
        return "sluice_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    /** Drops a test's schema and everything in it. */
    public static void drop(String schema) {
        try (Connection c = DriverManager.getConnection(url());
                Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop test schema " + schema, e);
        }
    }
}
