package io.sluice.core.log;

import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

/**
 * Which of several servers on one shared store runs a reader (an output's route, a handler):
 * the one holding the reader's lease, a row of {@code reader_leases} it renews. The others stand
 * by, and one of them takes over once the lease has expired (its holder died) or was released
 * (its holder stopped), continuing from the reader's shared checkpoint. So with several servers
 * on one PostgreSQL each reader runs in one of them at a time: a match is delivered, a handler
 * run, by one server (at least once, as always: a holder that dies after delivering and before
 * saving its checkpoint leaves those to be delivered again by the next).
 *
 * <p>On a store that is not shared there is nothing to share: the lease is always held.
 *
 * <h2>Implementation notes</h2>
 *
 * Acquiring and renewing are one conditional update (owner is us, or the lease expired), so two
 * servers can never both succeed. {@link #hold} asks the database only every third of the term;
 * between, the lease is known to be held. Expiry uses the servers' wall clocks: keep them in
 * step (NTP) to well within the term.
 */
public final class ReaderLease {
    /** How long a lease lasts without renewal. */
    public static final Duration TERM = Duration.ofSeconds(10);

    private final EventStore store;
    private final String reader;
    private final String owner = UUID.randomUUID().toString();
    private final Clock clock;
    private final Duration term;
    private long knownUntil;
    private boolean held;
    private volatile boolean leading;

    /** What a reader does on a turn of its loop. */
    public enum Turn {
        /** Run as on the last turn. */
        RUN,
        /** Run, after reading its state again: this server has just taken the reader (over). */
        TOOK_OVER,
        /** Do nothing: another server runs the reader (this turn waited a while). */
        STAND_BY
    }

    /**
     * One turn of a reader's loop: whether to run, or to stand by (then after waiting {@link
     * #retry}, so the loop does not spin), or to run after reading its state again.
     */
    public Turn turn() throws InterruptedException {
        boolean was = leading;
        if (!hold()) {
            if (was) {
                org.slf4j.LoggerFactory.getLogger(ReaderLease.class)
                        .warn("{}: another server holds the lease now; standing by", reader);
            }
            leading = false;
            Thread.sleep(retry().toMillis()); // waiting for the lease: nothing to wake up for
            return Turn.STAND_BY;
        }
        leading = true;
        return was ? Turn.RUN : Turn.TOOK_OVER;
    }

    /** Whether the last turn ran the reader here. */
    public boolean leading() {
        return leading;
    }

    /**
     * @param reader the reader's name (its checkpoint's)
     * @param clock the wall clock the lease's expiry is measured on
     */
    public ReaderLease(EventStore store, String reader, Clock clock, Duration term) {
        this.store = store;
        this.reader = reader;
        this.clock = clock;
        this.term = term;
        if (store.shared()) {
            store.transaction("creating the reader lease table", c -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("CREATE TABLE IF NOT EXISTS reader_leases (reader TEXT PRIMARY KEY,"
                            + " owner TEXT NOT NULL, expires BIGINT NOT NULL)");
                }
                return null;
            });
        }
    }

    /**
     * Whether this server may run the reader now: holds (or takes, or renews) the lease.
     * Cheap: the database is asked at most every third of the term.
     */
    public boolean hold() {
        if (!store.shared()) {
            return true;
        }
        long now = clock.millis();
        if (held && now < knownUntil - term.toMillis() * 2 / 3) {
            return true;
        }
        long until = now + term.toMillis();
        boolean got = store.transaction("renewing the lease of " + reader, c -> {
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO reader_leases(reader, owner, expires) VALUES (?, ?, 0) ON CONFLICT (reader) DO NOTHING")) {
                ins.setString(1, reader);
                ins.setString(2, owner);
                ins.executeUpdate();
            }
            try (PreparedStatement up = c.prepareStatement(
                    "UPDATE reader_leases SET owner = ?, expires = ? WHERE reader = ? AND (owner = ? OR expires < ?)")) {
                up.setString(1, owner);
                up.setLong(2, until);
                up.setString(3, reader);
                up.setString(4, owner);
                up.setLong(5, now);
                return up.executeUpdate() == 1;
            }
        });
        held = got;
        knownUntil = got ? until : 0;
        return got;
    }

    /** Gives the lease up (a clean stop), so that a server standing by takes over at once. */
    public void release() {
        leading = false;
        if (!store.shared() || !held) {
            return;
        }
        held = false;
        try {
            store.transaction("releasing the lease of " + reader, c -> {
                try (PreparedStatement up =
                        c.prepareStatement("UPDATE reader_leases SET expires = 0 WHERE reader = ? AND owner = ?")) {
                    up.setString(1, reader);
                    up.setString(2, owner);
                    up.executeUpdate();
                }
                return null;
            });
        } catch (RuntimeException e) {
            // the store is closing: the lease expires by itself
        }
    }

    /** How long a server standing by waits before asking again. */
    public Duration retry() {
        return term.dividedBy(5);
    }
}
