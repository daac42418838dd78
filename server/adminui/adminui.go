package adminui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/server"
)

// Config configures the admin namespace. Zero fields take the defaults named.
type Config struct {
	// Username and PasswordHash are the credentials the UI's connection form must carry;
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$, as `htpasswd -bnBC 10 "" pw` or
	// the bcryptjs npm package make). Required unless NoAuth.
	Username     string
	PasswordHash string
	// NoAuth lets anyone who reaches the namespace connect (Node's auth: false).
	NoAuth bool
	// Namespace is the admin namespace; default "/admin".
	Namespace string
	// ReadOnly offers the UI no action: it may watch, not disconnect, join, leave or emit.
	ReadOnly bool
	// ServerID names this node in the UI's server list; default "hostname#pid" (Node uses
	// the hostname alone outside its cluster module; two nodes on one host would merge).
	ServerID string
	// Production sends the aggregated statistics only: no socket list and no feed (Node's
	// mode "production").
	Production bool
	// Events adds every event received and sent by every socket to the feed
	// ("event_received", "event_sent"): one admin broadcast per event and recipient, for
	// development. Off by default.
	Events bool
	// StatsInterval is how often each node sends "server_stats"; default 2s (the Node
	// package's period). It also paces the watch lease (3 intervals).
	StatsInterval time.Duration
	// MaxSockets bounds the sockets one node lists in "all_sockets"; default 10000.
	MaxSockets int
	// SessionTTL is how long a session id the UI received stays valid; default 24h.
	SessionTTL time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Errors of Install.
var (
	ErrNoAuth       = errors.New("adminui: set Username and PasswordHash, or NoAuth")
	ErrBadHash      = errors.New("adminui: PasswordHash must be a bcrypt hash")
	ErrBadNamespace = errors.New(`adminui: Namespace must start with "/" and not be "/"`)
)

// Server-side events between nodes (names no Node.js server listens to).
const (
	evWatch   = "riptide:admin-ui:watch"   // (leaseMillis): an admin UI watches through the sender
	evSockets = "riptide:admin-ui:sockets" // (): answer with this node's serialized sockets
)

// processStart approximates the process start for "uptime".
var processStart = time.Now()

// UI is an installed admin namespace. Close stops it.
type UI struct {
	cfg      Config
	io       *server.Server
	nsp      *server.Namespace
	auth     *authenticator
	log      *slog.Logger
	hostname string
	features []string

	traffic traffic
	obs     *server.Observer    // what is watched while a UI watches (nil: nothing)
	slot    *server.Observation // the server's observer slot: obs or paused

	// mu serializes the watch state changes.
	mu        sync.Mutex
	observing bool
	// remoteUntil is when the last lease from another node ends (Unix nanoseconds).
	remoteUntil atomic.Int64
	closed      atomic.Bool
	stop        chan struct{}
	done        chan struct{}
}

// Install adds the admin namespace to io and starts its statistics. Call it before serving,
// once per server (the server has one observer).
func Install(io *server.Server, cfg Config) (*UI, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = "/admin"
	}
	if cfg.Namespace[0] != '/' || cfg.Namespace == "/" {
		return nil, ErrBadNamespace
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = 2 * time.Second
	}
	if cfg.MaxSockets <= 0 {
		cfg.MaxSockets = 10000
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _ := os.Hostname()
	if cfg.ServerID == "" {
		cfg.ServerID = host + "#" + strconv.Itoa(os.Getpid())
	}
	u := &UI{cfg: cfg, io: io, log: cfg.Logger, hostname: host, stop: make(chan struct{}), done: make(chan struct{})}
	if !cfg.NoAuth {
		a, err := newAuthenticator(cfg.Username, cfg.PasswordHash, cfg.SessionTTL)
		if err != nil {
			return nil, err
		}
		u.auth = a
	}
	u.features = features(cfg)
	// The slot is claimed now, paused until a UI watches.
	slot, err := io.Observe(nil)
	if err != nil {
		return nil, fmt.Errorf("adminui: %w", err)
	}
	u.slot, u.obs = slot, u.observer()
	u.nsp = io.Of(cfg.Namespace)
	u.nsp.Use(u.authenticate)
	u.nsp.OnConnection(u.onAdmin)
	u.nsp.OnServerSideEmit(evWatch, u.onLease)
	u.nsp.OnServerSideEmit(evSockets, u.onSocketsRequest)
	if !cfg.ReadOnly {
		u.registerActions()
	}
	go u.run() // one goroutine per Install (stats ticker and lease), not per socket
	return u, nil
}

// features is what "config" tells the UI it may offer.
func features(cfg Config) []string {
	var f []string
	if !cfg.ReadOnly {
		// riptide has the whole Socket.IO v4 server API, cluster-wide.
		f = append(f, "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT")
	}
	f = append(f, "AGGREGATED_EVENTS")
	if !cfg.Production {
		// The UI shows its socket, room, client and event pages only with this one.
		f = append(f, "ALL_EVENTS")
	}
	return f
}

// Close stops the statistics and the feeds and disconnects the UIs connected to this node;
// new ones are refused. The namespace stays registered. Safe to call more than once.
func (u *UI) Close() {
	if !u.closed.CompareAndSwap(false, true) {
		return
	}
	close(u.stop)
	<-u.done
	u.setObserving(false)
	u.slot.Close()
	u.nsp.Local().DisconnectSockets(false)
}

// Namespace returns the admin namespace.
func (u *UI) Namespace() *server.Namespace { return u.nsp }

// run sends the statistics and renews the watch lease every StatsInterval.
func (u *UI) run() {
	defer close(u.done)
	t := time.NewTicker(u.cfg.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-u.stop:
			return
		case <-t.C:
			u.tick()
		}
	}
}

// tick renews the lease while a UI is connected here, decides whether anyone watches, and
// sends this node's statistics if so.
func (u *UI) tick() {
	local := u.nsp.Count() > 0
	if local {
		u.announce()
	}
	watched := local || time.Now().UnixNano() < u.remoteUntil.Load()
	u.setObserving(watched)
	if watched {
		u.emitStats()
	}
}

// lease is how long a watch announcement keeps the other nodes observing.
func (u *UI) lease() time.Duration { return 3 * u.cfg.StatsInterval }

// announce tells the other nodes that a UI watches through this one.
func (u *UI) announce() {
	if err := u.nsp.ServerSideEmit(evWatch, u.lease().Milliseconds()); err != nil {
		u.log.Debug("adminui: watch announcement", "err", err)
	}
}

// onLease: another node has a UI connected; observe until its lease ends.
func (u *UI) onLease(args server.Args, _ func(...any)) {
	var ms int64
	if args.Decode(0, &ms) != nil || ms <= 0 || u.closed.Load() {
		return
	}
	until := time.Now().Add(time.Duration(ms) * time.Millisecond).UnixNano()
	if until > u.remoteUntil.Load() {
		u.remoteUntil.Store(until)
	}
	if u.setObserving(true) {
		u.emitStats() // the UI should not wait a whole interval for this node
	}
}

// setObserving installs or removes the server observer; it reports whether it was just
// installed.
func (u *UI) setObserving(on bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if on && u.closed.Load() {
		on = false
	}
	switch {
	case on && !u.observing:
		u.traffic.reset(u.io.Engine().Stats()) // what came before belongs to no report
		u.slot.Set(u.obs)
		u.observing = true
		return true
	case !on && u.observing:
		u.slot.Set(nil)
		u.observing = false
	}
	return false
}
