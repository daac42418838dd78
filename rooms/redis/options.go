package redis

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Options configure a Cluster. Zero fields take the defaults of Node's
// @socket.io/redis-adapter 8.x (and of socket.io-adapter's ClusterAdapterWithHeartbeat for
// the heartbeat settings), so a riptide node and a Node.js node configured alike interoperate.
type Options struct {
	// Key is the channel prefix; default "socket.io" (the Node adapter's key, and
	// createShardedAdapter's channelPrefix).
	Key string
	// Sharded selects Redis 7 sharded pub/sub (SSUBSCRIBE/SPUBLISH) and the message format of
	// createShardedAdapter. Every node of a cluster must agree. Default: classic pub/sub, the
	// format of createAdapter and @socket.io/redis-emitter.
	Sharded bool
	// SubscriptionMode is createShardedAdapter's subscriptionMode (sharded only); default
	// SubscriptionDynamic.
	SubscriptionMode SubscriptionMode
	// RequestsTimeout bounds requests to other nodes (FetchSockets, AllRooms, ServerCount and
	// the acks of broadcasts without a timeout flag); default 5 s (requestsTimeout).
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel sends this node's answers to the requesting node's own
	// response channel instead of the shared one (classic only; Node's option of that name).
	// Requesters listen on both, so nodes may differ.
	PublishOnSpecificResponseChannel bool
	// HeartbeatInterval is how often this node tells the others it is alive; default 5 s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a silent node counts as alive; default 10 s. A request does
	// not wait for a node silent for longer, and reports it in PartialError.
	HeartbeatTimeout time.Duration
	// NodeName names this node in heartbeats, so others can say which node did not answer;
	// default "hostname:pid".
	NodeName string
	// InboxSize bounds the messages received from Redis and not yet handled; when full, new
	// ones are dropped and counted (Stats.InboxDropped) rather than blocking the connection's
	// reader. Default 8192.
	InboxSize int
	// OutboxSize bounds the messages waiting to be published; when full, broadcasts are
	// dropped and counted (Stats.OutboxDropped) and requests fail with ErrBackpressure.
	// Default 8192.
	OutboxSize int
	// ReconnectMin and ReconnectMax bound the wait between attempts to resubscribe after the
	// connection to Redis is lost (doubling from min to max); defaults 100 ms and 2 s.
	ReconnectMin, ReconnectMax time.Duration
	// Logger receives connection state changes; default slog.Default().
	Logger *slog.Logger
	// Recovery, when set, keeps what connection state recovery needs in Redis, so that a
	// client whose node died or drained recovers on another one (the adapters then
	// implement rooms.SessionStore; see RecoveryOptions for how and what it costs). Set it
	// when the server has ConnectionStateRecovery, on every node alike. Default nil: the
	// pub/sub path alone, no stream, no session keys.
	Recovery *RecoveryOptions
}

// SubscriptionMode says which rooms get their own channel in sharded mode, as
// createShardedAdapter's subscriptionMode.
type SubscriptionMode uint8

const (
	// SubscriptionDynamic: rooms other than socket ids get their own channel (the default).
	SubscriptionDynamic SubscriptionMode = iota
	// SubscriptionStatic: one channel per namespace.
	SubscriptionStatic
	// SubscriptionDynamicPrivate: every room gets its own channel, socket ids included.
	SubscriptionDynamicPrivate
)

// Errors of cross-node operations.
var (
	// ErrUnavailable: the connection to Redis is down; local delivery goes on, other nodes
	// cannot be reached until the adapter has resubscribed.
	ErrUnavailable = errors.New("redis: not connected to Redis, other nodes cannot be reached")
	// ErrTimeout: some nodes did not answer in time (see PartialError for which).
	ErrTimeout = errors.New("redis: timeout waiting for other nodes")
	// ErrBackpressure: the outbox is full (Redis is slower than the messages to publish).
	ErrBackpressure = errors.New("redis: too many messages waiting to be published")
	// ErrClosed: the adapter or cluster is closed.
	ErrClosed = errors.New("redis: closed")
)

// Node is another riptide node of the cluster, as its heartbeats describe it.
type Node struct {
	UID  string // the adapter's uid (one per namespace and process)
	Name string // Options.NodeName of that node
}

func (n Node) String() string {
	if n.Name == "" {
		return n.UID
	}
	return n.Name + " (" + n.UID + ")"
}

// PartialError is returned with the answers that did arrive when some nodes did not
// answer: Missing names the riptide nodes that did not (silent ones, whose heartbeats
// stopped, are not waited for and are listed too); Unidentified counts the nodes that send
// no heartbeats (Node.js servers) that did not. errors.Is(err, ErrTimeout) holds.
type PartialError struct {
	Op           string
	Missing      []Node
	Unidentified int
}

func (e *PartialError) Error() string {
	msg := fmt.Sprintf("redis: %s: ", e.Op)
	if len(e.Missing) > 0 {
		msg += fmt.Sprintf("no answer from %v", e.Missing)
	}
	if e.Unidentified > 0 {
		if len(e.Missing) > 0 {
			msg += " and "
		}
		msg += fmt.Sprintf("%d node(s) without heartbeats", e.Unidentified)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrTimeout) true.
func (e *PartialError) Unwrap() error { return ErrTimeout }

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = "socket.io"
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 5 * time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 10 * time.Second
	}
	if o.NodeName == "" {
		host, _ := os.Hostname()
		o.NodeName = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.InboxSize <= 0 {
		o.InboxSize = 8192
	}
	if o.OutboxSize <= 0 {
		o.OutboxSize = 8192
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = 100 * time.Millisecond
	}
	if o.ReconnectMax <= 0 {
		o.ReconnectMax = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
