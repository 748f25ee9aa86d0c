/**
 * Cluster-wide single flight over Vert.x's clustered event bus.
 *
 * <p>Each key has one owner node: the member with the highest {@link dev.singleflight.impl.cluster.RendezvousHash}
 * score for it, over the <em>serving</em> members as this node last saw them: the nodes whose verticle
 * said {@code hello} and not {@code bye}, among those the cluster manager lists (read every 100 ms by
 * {@link dev.singleflight.impl.cluster.OwnerCalls}; no node listener is taken, so Vert.x HA can run).
 * Each node's verticle listens at its node address, {@code __singleflight.internal.<address>.node.<node id>}
 * (a prefix that a bridge rule for the public address cannot match, and that JSON flights may not
 * target), where the messages below arrive. Every message carries the header {@code singleflight-op}
 * naming its operation and {@code singleflight-node} (the sender's id); all but {@code hello} and
 * {@code bye} carry {@code singleflight-key}. Names are in {@link dev.singleflight.impl.cluster.ClusterProtocol}.
 *
 * <p>Each flight at an owner has an id ({@code singleflight-flight}), told to every node of the
 * flight, and a lead token ({@code singleflight-token}), told only to the node granted the lead; both
 * are random UUIDs. A message that does not follow the table (missing or malformed headers, an
 * unknown operation, a {@code json} whose body is not a JSON object) is answered 400 and changes
 * nothing; {@code T} is {@code clusterRequestTimeout}, the bound of every request below.
 *
 * <table>
 *   <caption>The operations</caption>
 *   <tr><th>op</th><th>from, to</th><th>more headers</th><th>body</th><th>reply</th></tr>
 *   <tr><td>{@code hello}, {@code bye}</td><td>a verticle that starts (to every member; and every
 *   second to the members it has not heard from) or stops (to the serving members)</td><td></td>
 *   <td>none</td><td>empty: the sender serves (or no longer does); 503 from a stopping verticle</td></tr>
 *   <tr><td>{@code join}</td><td>a node whose flight of the key starts (no flight id), or that asks
 *   again (with it), to the key's owner</td><td>{@code singleflight-flight} when asking again</td>
 *   <td>none</td><td>{@code singleflight-role: leader} with the flight id and a new lead token, when
 *   the key is free or its flight lost its leader; {@code wait} with the flight id: at once to a
 *   first join, within T/2 to one asking again: ask again; {@code follower} with the outcome, as in
 *   {@code result}, once the leader reported</td></tr>
 *   <tr><td>{@code lead}</td><td>the leader, every T/3 and when the members change, to the owner it
 *   then sees</td><td>flight id, lead token</td><td>none</td><td>{@code leader}: the owner holds (or
 *   just adopted) the flight with this leader; {@code lost}: another node leads it, or it ended</td></tr>
 *   <tr><td>{@code result}</td><td>the leader, to the owner</td><td>flight id, lead token,
 *   {@code singleflight-outcome} ({@code success} or {@code failure}), for a failure
 *   {@code singleflight-failure-class} and {@code singleflight-failure-message}; when the leader node
 *   traces, {@code singleflight-trace} (the W3C {@code traceparent} of its execution span, which the
 *   owner's answers carry on)</td><td>the result, or
 *   none for a failure</td><td>empty; the owner then answers every follower and frees the key; 403
 *   from a node that does not lead the flight, 409 for a flight the owner does not hold</td></tr>
 *   <tr><td>{@code give-up}</td><td>the leader, when its flight ends without its outcome
 *   (maxFlightTime, cancelAbandoned, undeploy), to the owner</td><td>flight id, lead token</td>
 *   <td>none</td><td>empty; the owner hands the lead to a waiting node; 403 / 409 as for {@code result}</td></tr>
 *   <tr><td>{@code handover}</td><td>a node that just became the owner of a key, on a first join of
 *   it, to the key's previous owner</td><td></td><td>none</td><td>the flight id, and
 *   {@code singleflight-leader} with its lead token, when the previous owner held a flight of the key;
 *   else empty. The previous owner lets the flight go</td></tr>
 *   <tr><td>{@code forget}</td><td>a node that was asked to forget (a proxy or a JSON forget), to the
 *   owner</td><td>a JSON forget's own headers</td><td>none, or the JSON forget request</td><td>empty,
 *   once every member forgot the key ({@code forget-local})</td></tr>
 *   <tr><td>{@code forget-local}</td><td>the owner, to every other serving member</td><td></td><td>none</td>
 *   <td>empty</td></tr>
 *   <tr><td>{@code json}</td><td>the node a JSON-protocol request reached, to the owner</td><td>the
 *   request's own headers ({@code action}, {@code singleflight-via}); {@code singleflight-moved} when
 *   sent again after its owner left</td><td>the JSON request</td>
 *   <td>what the owner's JSON protocol answers: the downstream reply, or a failure code</td></tr>
 *   <tr><td>any</td><td>to a node whose verticle is stopping, or that does not own the key in its
 *   view and holds no flight of it</td><td></td><td></td><td>{@code singleflight-role: retry}: ask
 *   again soon, the owner as the sender then sees it (for 5 s at most)</td></tr>
 * </table>
 *
 * <p>When the members change, the leaders register with the new owners ({@code lead}), followers ask
 * again there naming their flight, and an owner releases the flights of keys it no longer owns (its
 * followers are told {@code wait}); a new owner adopts a flight from whichever comes first. A flight
 * whose leader left, went silent for T or gave up is led by the next follower, which runs its own
 * function: the key runs twice, counted once in {@code singleflight.cluster.moves} by the owner. See
 * the README's "Membership changes" for exactly when that happens.
 */
package dev.singleflight.impl.cluster;
