/**
 * The JSON event-bus protocol, for callers that cannot send a Java function: its requests, failure
 * codes and loop guard ({@code JsonProtocol}), and the one downstream request of a JSON flight
 * ({@code DownstreamRequest}). The README's protocol tables are its contract.
 */
package dev.singleflight.impl.json;
