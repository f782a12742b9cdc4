/** The interface of trigger pipeline handlers (Winchester's pipeline handlers). */
package io.sluice.api.pipeline;
