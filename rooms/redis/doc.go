// Package redis is the Redis adapter: it joins riptide nodes, and Node.js servers using
// @socket.io/redis-adapter 8.x, into one cluster, so that broadcasts, acks, FetchSockets,
// SocketsJoin/Leave, DisconnectSockets and ServerSideEmit reach the sockets of every node.
// It speaks the Node adapter's wire format (classic pub/sub, or Redis 7 sharded pub/sub as
// createShardedAdapter does) byte for byte, so @socket.io/redis-emitter 5.x reaches riptide
// clients too. It is built on github.com/redis/rueidis.
//
// The model: a Cluster is a process's connection to Redis, shared by the Adapter of each
// namespace (give Cluster.NewAdapter to server.Options.NewAdapter). Each Adapter keeps its
// own members in a rooms.Memory and delivers locally at once; what other nodes must do is
// published as a message on the namespace's channels, and other nodes' messages arrive on
// one dedicated subscriber connection, go through a bounded inbox (full: dropped and
// counted, the connection's reader never waits) and are handled in order by one dispatcher.
// Messages leave in order through one publisher goroutine, in pipelined batches.
//
// Requests that need answers (FetchSockets, AllRooms, acks) first count who should answer:
// Redis says how many servers subscribe to the namespace, heartbeats say which riptide nodes
// are alive. Nodes silent for longer than HeartbeatTimeout are not waited for, and a request
// that times out returns what arrived with a *PartialError naming the nodes that did not
// answer. When the connection to Redis is lost, local delivery goes on, cross-node requests
// fail at once with ErrUnavailable, and the subscriber reconnects and resubscribes.
//
// With Options.Recovery, the adapters also implement rooms.SessionStore in Redis, so that
// connection state recovery works across nodes: recoverable broadcasts get their offset
// from a per-namespace stream before they are delivered, and sessions are keys with a TTL
// (recovery.go; the restore window in window.go).
//
// The wire format is described in wire.go; msgpack.go copies notepack.io's encoding.
package redis
