/**
 * The {@code sluice} command line (picocli). Each command is a small class; shared conventions:
 * exit 0 on success, 1 on a failure at run time, 2 on bad usage or invalid input, with a message
 * on stderr that names the problem (option, line number, JSON path or operator).
 */
package io.sluice.server.cli;
