/**
 * Cluster-wide single flight over Vert.x's clustered event bus.
 *
 * <p>Each key has one owner node: the member with the highest {@link dev.singleflight.impl.cluster.RendezvousHash}
 * score for it, over the members as this node last read them ({@link dev.singleflight.impl.cluster.OwnerCalls}
 * reads them every 100 ms). Each node's verticle listens at its node address,
 * {@code <address>.node.<node id>}, where the messages below arrive; every message carries the header
 * {@code singleflight-op} naming its operation, {@code singleflight-key} and {@code singleflight-node}
 * (the sender's id). Names are in {@link dev.singleflight.impl.cluster.ClusterProtocol}.
 *
 * <table>
 *   <caption>The operations</caption>
 *   <tr><th>op</th><th>from, to</th><th>more headers</th><th>body</th><th>reply</th></tr>
 *   <tr><td>{@code join}</td><td>a node whose flight of the key starts (a proxy caller of that node
 *   leads it there), to the key's owner</td><td></td><td>none</td><td>to the first join of a flight:
 *   {@code singleflight-role: leader} and {@code singleflight-token}, the flight's number at the owner;
 *   to the others, once the leader reported: {@code singleflight-role: follower} and the outcome, as
 *   in {@code result}</td></tr>
 *   <tr><td>{@code result}</td><td>the leader node, to the owner</td><td>{@code singleflight-token},
 *   {@code singleflight-outcome} ({@code success} or {@code failure}), for a failure
 *   {@code singleflight-failure-class} and {@code singleflight-failure-message}; when the leader node
 *   traces, {@code singleflight-trace} (the W3C {@code traceparent} of its execution span, which the
 *   owner's answers carry on)</td><td>the result, or
 *   none for a failure</td><td>empty; the owner then answers every follower's join and frees the
 *   key</td></tr>
 *   <tr><td>{@code forget}</td><td>a node that was asked to forget (a proxy or a JSON forget), to the
 *   owner</td><td>a JSON forget's own headers</td><td>none, or the JSON forget request</td><td>empty,
 *   once every member forgot the key ({@code forget-local})</td></tr>
 *   <tr><td>{@code forget-local}</td><td>the owner, to every other member</td><td></td><td>none</td>
 *   <td>empty</td></tr>
 *   <tr><td>{@code json}</td><td>the node a JSON-protocol request reached, to the owner</td><td>the
 *   request's own headers ({@code action}, {@code singleflight-via})</td><td>the JSON request</td>
 *   <td>what the owner's JSON protocol answers: the downstream reply, or a failure code</td></tr>
 *   <tr><td>any</td><td>to a node whose verticle is stopping</td><td></td><td></td><td>
 *   {@code singleflight-role: retry}: ask again, the new owner once the node has left</td></tr>
 * </table>
 *
 * <p>When a member leaves, calls waiting on it as owner are sent again to the new owner, and an owner
 * hands a flight whose leader left to one of its followers, which runs its own function: nobody waits
 * for a dead node, and the key may run twice (counted in {@code singleflight.cluster.moves}).
 */
package dev.singleflight.impl.cluster;
