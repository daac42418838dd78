package server

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/server/engine"
)

// Options configure a Socket.IO server. Zero fields take the Node reference's defaults
// (socket.io 4.8).
type Options struct {
	// Engine configures the Engine.IO layer; its Path defaults to "/socket.io/" here.
	Engine engine.Options
	// ConnectTimeout closes a connection that joins no namespace in time; default 45 s.
	ConnectTimeout time.Duration
	// ConnectionStateRecovery, when set, lets a client that lost its connection come back
	// with the same socket id, rooms and data, and receive the events it missed.
	ConnectionStateRecovery *Recovery
	// NewAdapter creates the adapter of each namespace; default rooms.NewMemory.
	NewAdapter func(nsp rooms.Host) rooms.Adapter
	// Logger for server-level events; default slog.Default().
	Logger *slog.Logger

	// MaxPendingEvents bounds the handler work a connection may have queued: events and
	// namespace CONNECTs received and not yet handled, summed over the namespaces of the
	// connection. At the bound the server stops reading the connection (TCP, or the answer
	// to a long-poll POST, pushes back on the client) until the queue is half drained; see
	// Stats.InputPauses. Default 64. The Node reference has no such bound (its handlers run
	// as the packets are parsed). A handler that waits for an ack from its own client while
	// this many events pile up behind it waits until its ack timeout: the ack is not read.
	MaxPendingEvents int
	// MaxHandlerWorkers caps the goroutines that run handlers, shared by all connections;
	// default 256 × GOMAXPROCS. Handlers beyond the cap wait in order for a free worker.
	// Handlers that compute gain nothing past GOMAXPROCS; the rest of the room is for
	// handlers blocked on I/O (a database call, an ack), and 256 per core at a few KiB of
	// stack each is a few MiB per core at worst, while one busy socket per connection on a
	// large server no longer means one goroutine per connection.
	MaxHandlerWorkers int
	// HandlerIdleTimeout is how long an idle handler goroutine waits for work before it
	// exits; default 10 s, so bursts reuse goroutines and a quiet server keeps none.
	HandlerIdleTimeout time.Duration
}

// Recovery configures connection state recovery.
type Recovery struct {
	// MaxDisconnectionDuration is how long a dropped session can be restored; default 2 min.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs namespace middlewares again on a successful recovery (the
	// reference's skipMiddlewares: false). Default: skipped.
	RunMiddlewares bool
}

func (o Options) withDefaults() Options {
	if o.Engine.Path == "" {
		o.Engine.Path = "/socket.io/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if r := o.ConnectionStateRecovery; r != nil {
		c := *r
		if c.MaxDisconnectionDuration <= 0 {
			c.MaxDisconnectionDuration = 2 * time.Minute
		}
		o.ConnectionStateRecovery = &c
	}
	if o.NewAdapter == nil {
		mo := rooms.MemoryOptions{}
		if r := o.ConnectionStateRecovery; r != nil {
			mo.Recovery, mo.MaxDisconnectionDuration = true, r.MaxDisconnectionDuration
		}
		o.NewAdapter = func(h rooms.Host) rooms.Adapter { return rooms.NewMemory(h, mo) }
	}
	if o.MaxPendingEvents <= 0 {
		o.MaxPendingEvents = 64
	}
	if o.MaxHandlerWorkers <= 0 {
		o.MaxHandlerWorkers = 256 * runtime.GOMAXPROCS(0)
	}
	if o.HandlerIdleTimeout <= 0 {
		o.HandlerIdleTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
