/** ZeroMQ components (JeroMQ): the {@code zeromq} input, a PULL socket. */
package io.sluice.connect.zeromq;
