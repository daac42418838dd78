package main

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/adminui"
	"github.com/riptide-io/riptide/server/engine"
)

// AdminUIConfig is the Socket.IO Admin UI's namespace (server/adminui; docs/admin-ui.md).
type AdminUIConfig struct {
	Enabled       bool
	Username      string
	PasswordHash  string
	ReadOnly      bool
	Namespace     string
	ServerID      string
	Origins       []string
	Mode          string
	Events        bool
	StatsInterval time.Duration
}

var adminUISection = section{"admin_ui", "The Socket.IO Admin UI (docs/admin-ui.md): the unchanged UI of @socket.io/admin-ui, hosted at https://admin.socket.io or served by you, watches this node and, through Redis, the whole cluster. Off by default."}

// options declares the admin_ui keys; Config.options appends them.
func (a *AdminUIConfig) options() []*option {
	return []*option{
		{key: "admin_ui.enabled", flag: "admin-ui", def: "false", val: (*boolVal)(&a.Enabled),
			help: "Serve the admin namespace. Needs admin_ui.password_hash."},
		{key: "admin_ui.username", flag: "admin-ui-username", def: "admin", val: (*strVal)(&a.Username),
			help: "The username the UI's connection form must carry."},
		{key: "admin_ui.password_hash", flag: "admin-ui-password-hash", def: "", val: (*strVal)(&a.PasswordHash), secret: redactAll,
			help: `bcrypt hash of the UI's password, as the Node package takes it (e.g. htpasswd -bnBC 10 "" PASSWORD | tr -d ':\n', or bcryptjs).`},
		{key: "admin_ui.read_only", flag: "admin-ui-read-only", def: "false", val: (*boolVal)(&a.ReadOnly),
			help: "Watch only: the UI may not disconnect sockets, make them join or leave rooms, or emit to them."},
		{key: "admin_ui.namespace", flag: "admin-ui-namespace", def: "/admin", val: (*strVal)(&a.Namespace),
			help: "The admin namespace (the UI's advanced option of the same name)."},
		{key: "admin_ui.server_id", flag: "admin-ui-server-id", def: "", val: (*strVal)(&a.ServerID),
			help: "This node's name in the UI's server list. Empty: hostname#pid."},
		{key: "admin_ui.origins", flag: "admin-ui-origin", def: "https://admin.socket.io", val: (*listVal)(&a.Origins),
			help: "Origins of the UI, allowed by CORS (with credentials, as the UI sends them) in addition to listen.cors_origins, so its polling handshake works from there. In flags and the environment: comma-separated."},
		{key: "admin_ui.mode", flag: "admin-ui-mode", def: "development", val: (*strVal)(&a.Mode),
			help: "development: the socket list and the connect, room and disconnect feed; production: statistics only (the Node package's modes)."},
		{key: "admin_ui.events", flag: "admin-ui-events", def: "false", val: (*boolVal)(&a.Events),
			help: "Also feed every event received and sent by every socket to the UI (one admin broadcast per event and recipient: for development)."},
		{key: "admin_ui.stats_interval", flag: "admin-ui-stats-interval", def: "2s", val: (*durVal)(&a.StatsInterval),
			help: "How often each node sends its statistics to the UI."},
	}
}

// validateAdminUI checks the admin_ui keys when the UI is enabled.
func validateAdminUI(a *AdminUIConfig, bad func(key, format string, args ...any)) {
	if !a.Enabled {
		return
	}
	if a.Username == "" {
		bad("admin_ui.username", "must not be empty")
	}
	if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
		bad("admin_ui.password_hash", "must be a bcrypt hash ($2a$, $2b$ or $2y$...) when admin_ui.enabled is true")
	}
	if len(a.Namespace) < 2 || a.Namespace[0] != '/' {
		bad("admin_ui.namespace", "%q must start with / and not be /", a.Namespace)
	}
	for _, o := range a.Origins {
		if err := origin(o); err != nil {
			bad("admin_ui.origins", "%v", err)
		}
	}
	if a.Mode != "development" && a.Mode != "production" {
		bad("admin_ui.mode", "%q is not development or production", a.Mode)
	}
	if a.StatsInterval <= 0 {
		bad("admin_ui.stats_interval", "must be more than 0, not %v", a.StatsInterval)
	}
}

// withAdminUICORS returns the engine's CORS setting with the UI's origins added when it is
// enabled: the UI is served from another origin and its first requests are polling.
func withAdminUICORS(c *Config, cors *engine.CORS) *engine.CORS {
	a := &c.AdminUI
	if !a.Enabled || len(a.Origins) == 0 {
		return cors
	}
	if cors == nil {
		return &engine.CORS{Origins: slices.Clone(a.Origins), Credentials: true}
	}
	out := *cors
	out.Origins = append(slices.Clone(cors.Origins), a.Origins...)
	out.Credentials = true
	return &out
}

// adminUI is the installed admin namespace, closed on shutdown.
var adminUI *adminui.UI

// installAdminUI adds the admin namespace to io when admin_ui.enabled.
func installAdminUI(c *Config, io *server.Server, log *slog.Logger) error {
	a := &c.AdminUI
	if !a.Enabled {
		return nil
	}
	ui, err := adminui.Install(io, adminui.Config{
		Username: a.Username, PasswordHash: a.PasswordHash, ReadOnly: a.ReadOnly,
		Namespace: a.Namespace, ServerID: a.ServerID, Production: a.Mode == "production",
		Events: a.Events, StatsInterval: a.StatsInterval, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("admin_ui: %w", err)
	}
	adminUI = ui
	log.Info("admin UI enabled", "namespace", a.Namespace, "origins", a.Origins, "read_only", a.ReadOnly, "mode", a.Mode)
	return nil
}
