/**
 * Sluice's public model: the {@link io.sluice.api.Event} and the {@link io.sluice.api.Envelope}
 * that names its identifying fields. Connectors, the client library and every other module
 * depend on this package and on nothing of the server.
 */
package io.sluice.api;
