/** The interface of handlers written in Java ({@code driver: java}). */
package io.sluice.api.handler;
