package main

import (
	"log/slog"

	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
)

// recovery turns recovery.* into the server's ConnectionStateRecovery and, for a cluster,
// the Redis adapter's Recovery (both nil when off). Recovered sockets go through the
// connection middlewares again (the reference's skipMiddlewares: false), so auth.jwt
// verifies the token the client reconnects with and attaches its identity, and the
// per-user limit counts the socket again.
func recovery(c *Config, log *slog.Logger) (*server.Recovery, *redis.RecoveryOptions) {
	if !c.Recovery.Enabled {
		return nil, nil
	}
	d := c.Recovery.MaxDisconnectionDuration
	log.Info("connection state recovery", "max_disconnection_duration", d, "across_nodes", c.Redis.URL != "")
	return &server.Recovery{MaxDisconnectionDuration: d, RunMiddlewares: true},
		&redis.RecoveryOptions{MaxDisconnectionDuration: d}
}
