/**
 * Standing queries: PySeps query documents and the files that hold them.
 *
 * <pre>
 *   query file / API / config ──► StandingQueries.read ──► StandingQuery(name, key, query, ...)
 *                                                              │
 *                                                              ▼
 *                                              QueryIndex (sluice-query) ──► names matched per event
 * </pre>
 */
package io.sluice.core.query;
