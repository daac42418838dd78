package main

import (
	"log/slog"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/tier"
)

// webhooks sends connects, disconnects, joins and leaves when webhooks.url is set.
var webhooks *tier.Webhooks

// newBackend returns the backend of backend.*, or nil without backend.url.
func newBackend(c *Config, log *slog.Logger) (*tier.Backend, error) {
	if c.Backend.URL == "" {
		return nil, nil
	}
	b := &c.Backend
	return tier.NewBackend(tier.BackendConfig{
		URL: b.URL, Secret: b.Secret, Timeout: b.Timeout, MaxInFlight: b.MaxInFlight,
		MaxReplyBytes: int64(b.MaxReplyBytes), BreakerFailures: b.BreakerFailures,
		BreakerCooldown: b.BreakerCooldown, Logger: log,
	})
}

// newWebhooks starts the webhook sender of webhooks.*, or returns nil without webhooks.url.
func newWebhooks(c *Config, log *slog.Logger) (*tier.Webhooks, error) {
	if c.Webhooks.URL == "" {
		return nil, nil
	}
	// Its own Backend: a failing webhook endpoint must not open the proxies' breaker.
	b, err := tier.NewBackend(tier.BackendConfig{URL: c.Webhooks.URL, Secret: c.Backend.Secret,
		Timeout: c.Backend.Timeout, Logger: log})
	if err != nil {
		return nil, err
	}
	w := &c.Webhooks
	return tier.NewWebhooks(tier.WebhooksConfig{Backend: b, Batch: w.Batch, Interval: w.Interval,
		Queue: w.Queue, Retries: w.Retries, Logger: log}), nil
}

// api is the server API, served on the admin listener when admin.api_keys is set.
var api *tier.API

// installBackend adds the connect proxy (after authentication, before the limits), the
// server API's user rooms and the webhooks' connection hooks to ns.
func installBackend(c *Config, b *tier.Backend, io *server.Server, log *slog.Logger) {
	ns := io.Of("/")
	if c.Backend.Connect && b != nil {
		tier.NewConnectProxy(b, c.Backend.ConnectHeaders).Install(ns)
	}
	if len(c.Admin.APIKeys) > 0 {
		api = tier.NewAPI(io, tier.APIConfig{Keys: c.Admin.APIKeys, Logger: log})
		api.Install(ns) // after the identity is known
	}
	if webhooks != nil {
		webhooks.Install(ns)
	}
}
