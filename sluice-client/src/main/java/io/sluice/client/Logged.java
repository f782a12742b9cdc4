package io.sluice.client;

/**
 * An event the server has stored durably.
 *
 * @param offset its offset in the log
 * @param id its id
 */
public record Logged(long offset, String id) {}
