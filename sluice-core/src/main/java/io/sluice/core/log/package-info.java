/**
 * The event log: the one source of truth every reader derives from.
 *
 * <pre>
 *  producers ──append(docs)──► EventLog ──(queue)──► writer thread ──► EventStore.append (one transaction,
 *      ▲                          │ validate +                          │   durable on return)
 *      └──── future completes ◄───┘ normalize envelope                  ▼
 *           after the commit                                   committed batch ──► live subscribers
 *                                                                                 (tail, readers)
 *  readers that fall behind, or start from the past ──► EventStore.read(after, limit)
 * </pre>
 *
 * Offsets start at 1, are strictly increasing and gap-free as readers see them: only the
 * writer assigns them, in commit order.
 */
package io.sluice.core.log;
