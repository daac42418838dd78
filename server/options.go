package server

import (
	"log/slog"
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
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
