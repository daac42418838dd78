// Command riptide runs the realtime tier: a Socket.IO server on gnet.
//
//	go run ./cmd/riptide                     # :3000, path /socket.io/, in-memory rooms, no auth
//	go run ./cmd/riptide --addr 127.0.0.1:8080 --cors-origin https://app.example.com --auth-token s3cret
//
// Clients connect to namespace "/" with any Socket.IO v4 client. Out of the box they can:
//
//	socket.emit("join", room, data?, ack)          // join a room; ack({ok: true, room})
//	socket.emit("leave", room, ack)                // leave it; ack({ok: true, room})
//	socket.emit("publish", room, event, ...args)   // everyone else in room gets event(...args)
//	socket.emit("ping", ...args, ack)              // ack(...args): round-trip checks
//
// What they may do is policy.* (server/tier's Policy; docs/tier.md): rooms declared by
// pattern with join and publish rules, max_members and presence, events with permissions,
// sizes and rates. A refusal answers the ack with {error: {code, message}}, or sends an
// "error" event. The default policy is open: any room for anyone, except socket id rooms.
//
// GET /healthz and GET /readyz answer the load balancer's checks on the same port; with
// --admin-addr, GET /metrics serves Prometheus metrics on an address of its own
// (docs/operations.md).
//
// SIGTERM drains the node for a rolling restart (drain.*, docs/operations.md): new clients
// are refused with 503 SERVER_DRAINING after drain.delay, connections are closed in waves
// at the transport level once their handlers finished, so clients reconnect elsewhere; then
// the node leaves the cluster and exits 0.
//
// With --redis (or RIPTIDE_REDIS_URL) the node joins a cluster: rooms, broadcasts and acks
// span every node on that Redis, riptide or Node.js with @socket.io/redis-adapter
// (docs/cluster.md):
//
//	go run ./cmd/riptide --addr :3000 --redis redis://10.0.0.5:6379 [--redis-key socket.io] [--redis-sharded]
//
// Every option is also a key of a config file (--config riptide.yaml or .toml) and a RIPTIDE_*
// environment variable; flags beat the environment, which beats the file. `riptide validate`
// checks a configuration, `riptide config` prints the effective one (docs/configuration.md,
// deploy/riptide.example.yaml).
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with --pprof
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/tier"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// cli runs a command and returns the exit status: 0, 1 when serving fails, 2 for a bad
// command line or configuration.
func cli(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "validate" || args[0] == "config") {
		cmd, args = args[0], args[1:]
	}
	c, err := load(args, getenv, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "riptide:", line)
		}
		return 2
	}
	switch cmd {
	case "validate":
		fmt.Fprintln(stdout, "ok")
		return 0
	case "config":
		writeYAML(stdout, c.options(), false)
		return 0
	}
	log := newLogger(c, stderr)
	logMode(c, log)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(c.Debug.GCPercent)
	}
	if c.Debug.PprofAddr != "" {
		go func() { // profiling only, off by default
			log.Info("pprof listening", "addr", c.Debug.PprofAddr)
			if err := http.ListenAndServe(c.Debug.PprofAddr, nil); err != nil {
				log.Error("pprof", "err", err)
			}
		}()
	}
	if err := run(c, log); err != nil {
		log.Error("riptide stopped", "err", err)
		return 1
	}
	return 0
}

// logMode is the first log line: who may connect and what they may do. Open is the default
// so that `go run ./cmd/riptide` works at once, and it says so loudly.
func logMode(c *Config, log *slog.Logger) {
	rooms := "any room (policy.rooms is the open default)"
	if !isOpenRooms(c.Policy.Rooms) {
		rooms = fmt.Sprintf("the rooms of %d policy.rooms rules", len(c.Policy.Rooms))
	}
	switch {
	case c.Backend.Connect:
		log.Info("riptide asks its backend about every connection (backend.connect); clients it accepts may join and publish to "+rooms, "jwt", c.Auth.JWT.enabled())
	case c.Auth.JWT.enabled():
		log.Info("riptide requires a JWT: clients must connect with auth {token: <JWT>}; they may join and publish to "+rooms, "user_claim", c.Auth.JWT.UserClaim)
	case c.Auth.Token == "" && isOpenRooms(c.Policy.Rooms):
		log.Warn("riptide is OPEN: any client may connect, join any room and publish (no auth configured)")
	case c.Auth.Token == "":
		log.Warn("riptide is OPEN to connect (no auth configured): any client may join and publish to " + rooms)
	default:
		log.Info(`riptide requires a token: clients must connect with auth {"token": ...}; they may join and publish to ` + rooms)
	}
}

func run(c *Config, log *slog.Logger) error {
	l, srv, err := start(c, log)
	if err != nil {
		return err
	}
	ops, err := serveOps(c, l, srv, log)
	if err != nil {
		_ = l.Close(context.Background())
		return err
	}
	defer ops.stop()
	log.Info("riptide listening", "addr", l.Addr(), "path", srv.Engine().Path())
	drains.serveUntilDrained() // SIGTERM: drain.* (drain.go)
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = l.Close(shutdown)
	if adminUI != nil {
		adminUI.Close()
	}
	if policy != nil {
		_ = policy.Close() // leaves the member store before the cluster
	}
	if webhooks != nil {
		webhooks.Close() // sends the disconnects of the sessions just closed
	}
	if redisCluster != nil {
		_ = redisCluster.Close() // leaves the cluster, after the sessions and their handlers
	}
	if verifier != nil {
		verifier.Close()
	}
	if limits != nil {
		limits.Close()
	}
	return err
}

// limits enforces the per-user bound and the idle timeout when configured.
var limits *tier.Limits

// verifier checks the connections' JWTs when auth.jwt is configured.
var verifier *tier.Verifier

// jwtConfig turns the binary's auth.jwt keys into the library's configuration.
func jwtConfig(j *JWTConfig, log *slog.Logger) tier.JWTConfig {
	cfg := tier.JWTConfig{
		Algorithms:   j.Algorithms,
		Leeway:       j.Leeway,
		Issuer:       j.Issuer,
		Audience:     j.Audience,
		UserClaim:    j.UserClaim,
		BearerHeader: j.BearerHeader,
		QueryParam:   j.QueryParam,
		ExpiryGrace:  j.ExpiryGrace,
		Logger:       log,
	}
	if j.HMACSecret != "" || j.HMACSecretFile != "" {
		cfg.HMACSecrets = []tier.HMACSecret{{Secret: j.HMACSecret, File: j.HMACSecretFile}}
	}
	for _, f := range j.PublicKeyFiles {
		cfg.PublicKeys = append(cfg.PublicKeys, tier.PublicKey{File: f})
	}
	cfg.JWKS.URL = j.JWKSURL
	return cfg
}

// redisCluster is the node's cluster membership when --redis is given; redisRecovery
// says whether it keeps sessions and stored broadcasts (recovery.enabled).
var (
	redisCluster  *redis.Cluster
	redisRecovery bool
)

// start builds the server from the configuration and starts listening.
func start(c *Config, log *slog.Logger) (*engine.Listener, *server.Server, error) {
	e, lim := &c.Engine, &c.Limits
	opts := engine.Options{
		Path:              c.Listen.Path,
		PingInterval:      e.PingInterval,
		PingTimeout:       e.PingTimeout,
		UpgradeTimeout:    e.UpgradeTimeout,
		CloseTimeout:      e.CloseTimeout,
		MaxHTTPBufferSize: int64(lim.MaxHTTPBufferSize),
		WriteSoftLimit:    lim.SessionWriteSoftLimit,
		WriteHardLimit:    lim.SessionWriteHardLimit,

		MaxSessions:           lim.MaxConnections,
		MaxSessionsPerAddress: lim.MaxConnectionsPerAddr,
	}
	opts.TrustedProxies, _ = trustedProxies(c.Listen.TrustedProxies) // validated by load
	if len(c.Listen.CORSOrigins) > 0 {
		opts.CORS = &engine.CORS{Origins: c.Listen.CORSOrigins, Credentials: true}
	}
	opts.CORS = withAdminUICORS(c, opts.CORS)
	so := server.Options{
		Engine:            opts,
		ConnectTimeout:    e.ConnectTimeout,
		MaxPendingEvents:  lim.MaxPendingEvents,
		MaxHandlerWorkers: lim.MaxHandlerWorkers,
		Logger:            log,
	}
	var clusterRecovery *redis.RecoveryOptions
	so.ConnectionStateRecovery, clusterRecovery = recovery(c, log)
	if c.Redis.URL != "" {
		cl, err := openCluster(c, log, clusterRecovery) // does not wait for Redis to be up (ops.go)
		if err != nil {
			return nil, nil, err
		}
		redisCluster, redisRecovery = cl, clusterRecovery != nil
		so.NewAdapter = cl.NewAdapter
	}
	io := server.New(so)
	drains = newDrainer(c.Drain, io, log)
	backend, err := newBackend(c, log)
	if err != nil {
		return nil, nil, fmt.Errorf("backend: %w", err)
	}
	if webhooks, err = newWebhooks(c, log); err != nil {
		return nil, nil, fmt.Errorf("webhooks: %w", err)
	}
	p, err := newPolicy(c, log, backend)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err) // validated by load
	}
	policy = p
	if c.Auth.JWT.enabled() {
		jc := jwtConfig(&c.Auth.JWT, log)
		jc.KeepClaims = p.NeedsClaims()
		v, err := tier.NewVerifier(jc)
		if err != nil {
			return nil, nil, fmt.Errorf("auth.jwt: %w", err)
		}
		verifier = v
		io.Use(tier.Auth(v))
		log.Info("JWT authentication", "algorithms", v.Algorithms())
	}
	if lim.MaxConnectionsPerUser > 0 || lim.IdleTimeout > 0 {
		// After Auth, and last: a socket these limits admit is not refused later.
		limits = tier.NewLimits(tier.LimitsConfig{MaxPerUser: lim.MaxConnectionsPerUser, IdleTimeout: lim.IdleTimeout})
	}
	if token := c.Auth.Token; token != "" {
		io.Use(func(s *server.Socket) error {
			var auth struct {
				Token string `json:"token"`
			}
			_ = json.Unmarshal(s.Handshake().Auth, &auth)
			if subtle.ConstantTimeCompare([]byte(auth.Token), []byte(token)) != 1 {
				return &server.ConnectError{Message: "not authorized"}
			}
			return nil
		})
	}
	installBackend(c, backend, io, log)
	if limits != nil {
		limits.Install(io.Of("/"))
	}
	p.Install(io.Of("/"))
	if err := installAdminUI(c, io, log); err != nil {
		return nil, nil, err
	}
	l, err := io.Listen(c.Listen.Addr, engine.ListenConfig{
		HTTP:           health,
		EventLoops:     c.Listen.EventLoops,
		MaxHeaderBytes: lim.MaxHeaderBytes,
		HeaderTimeout:  c.Listen.HeaderTimeout,
		BodyTimeout:    c.Listen.BodyTimeout,
		IdleTimeout:    c.Listen.IdleTimeout,
		WriteSoftLimit: lim.ConnWriteSoftLimit,
		WriteHardLimit: lim.ConnWriteHardLimit,
		StallTimeout:   lim.ConnStallTimeout,
		Logger:         log,
	})
	return l, io, err
}
