// Command riptide runs the realtime tier: a Socket.IO server on gnet.
//
//	go run ./cmd/riptide                     # :3000, path /socket.io/, in-memory rooms, no auth
//	go run ./cmd/riptide --addr 127.0.0.1:8080 --cors-origin https://app.example.com --auth-token s3cret
//
// Clients connect to namespace "/" with any Socket.IO v4 client. Out of the box they can:
//
//	socket.emit("join", room, ack)                 // join a room; ack()
//	socket.emit("leave", room, ack)                // leave it; ack()
//	socket.emit("publish", room, event, ...args)   // everyone else in room gets event(...args)
//	socket.emit("ping", ...args, ack)              // ack(...args): round-trip checks
//
// GET /healthz answers 200 "ok" on the same port, for load-balancer checks.
//
// With --redis (or RIPTIDE_REDIS_URL) the node joins a cluster: rooms, broadcasts and acks
// span every node on that Redis, riptide or Node.js with @socket.io/redis-adapter
// (docs/cluster.md):
//
//	go run ./cmd/riptide --addr :3000 --redis redis://10.0.0.5:6379 [--redis-key socket.io] [--redis-sharded]
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with --pprof
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/http1"
)

type config struct {
	addr           string
	path           string
	pingInterval   time.Duration
	pingTimeout    time.Duration
	maxHTTPBuffer  int64
	corsOrigins    string
	eventLoops     int
	logLevel       string
	upgradeTimeout time.Duration
	authToken      string
	connectTimeout time.Duration
	redisURL       string
	redisKey       string
	redisSharded   bool
	gcPercent      int
	pprofAddr      string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("riptide", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", ":3000", "listen address host:port")
	fs.StringVar(&c.path, "path", "/socket.io/", "Engine.IO path")
	fs.DurationVar(&c.pingInterval, "ping-interval", 25*time.Second, "server ping interval")
	fs.DurationVar(&c.pingTimeout, "ping-timeout", 20*time.Second, "time to wait for a pong")
	fs.DurationVar(&c.upgradeTimeout, "upgrade-timeout", 10*time.Second, "time a transport upgrade may take")
	fs.Int64Var(&c.maxHTTPBuffer, "max-http-buffer-size", 1e6, "largest message or polling body, in bytes")
	fs.StringVar(&c.corsOrigins, "cors-origin", "", `comma-separated origins allowed by CORS ("*" for any); empty disables CORS`)
	fs.IntVar(&c.eventLoops, "event-loops", 0, "number of event loops (default: one per CPU)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.authToken, "auth-token", "", `when set, clients must connect with auth {"token": <this value>}`)
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 45*time.Second, "close connections that join no namespace in time")
	fs.StringVar(&c.redisURL, "redis", os.Getenv("RIPTIDE_REDIS_URL"), "join a cluster through this Redis (redis://[user:pass@]host:port[/db]); default $RIPTIDE_REDIS_URL")
	fs.StringVar(&c.redisKey, "redis-key", "socket.io", "channel prefix of the cluster (the Node adapter's key)")
	fs.BoolVar(&c.redisSharded, "redis-sharded", false, "use Redis 7 sharded pub/sub (createShardedAdapter's format)")
	fs.IntVar(&c.gcPercent, "gc-percent", 50, "Go GC target (GOGC); idle sockets are long-lived, so a lower target keeps RSS near the live heap. The GOGC environment variable wins when set")
	fs.StringVar(&c.pprofAddr, "pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060); empty: off")
	err := fs.Parse(args)
	return c, err
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "riptide: bad --log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(c.gcPercent)
	}
	if c.pprofAddr != "" {
		go func() { // profiling only, off by default
			log.Info("pprof listening", "addr", c.pprofAddr)
			if err := http.ListenAndServe(c.pprofAddr, nil); err != nil {
				log.Error("pprof", "err", err)
			}
		}()
	}
	if err := run(c, log); err != nil {
		log.Error("riptide stopped", "err", err)
		os.Exit(1)
	}
}

func run(c config, log *slog.Logger) error {
	l, srv, err := start(c, log)
	if err != nil {
		return err
	}
	log.Info("riptide listening", "addr", l.Addr(), "path", srv.Engine().Path())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	log.Info("shutting down", "sessions", srv.Engine().Count())
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = l.Close(shutdown)
	if redisCluster != nil {
		_ = redisCluster.Close()
	}
	return err
}

// redacted hides the password of a Redis URL in logs.
func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// redisCluster is the node's cluster membership when --redis is given.
var redisCluster *redis.Cluster

// start builds the server from the flags and starts listening.
func start(c config, log *slog.Logger) (*engine.Listener, *server.Server, error) {
	opts := engine.Options{
		Path:              c.path,
		PingInterval:      c.pingInterval,
		PingTimeout:       c.pingTimeout,
		UpgradeTimeout:    c.upgradeTimeout,
		MaxHTTPBufferSize: c.maxHTTPBuffer,
	}
	if c.corsOrigins != "" {
		opts.CORS = &engine.CORS{Origins: strings.Split(c.corsOrigins, ","), Credentials: true}
	}
	so := server.Options{Engine: opts, ConnectTimeout: c.connectTimeout, Logger: log}
	if c.redisURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cl, err := redis.Dial(ctx, c.redisURL, redis.Options{Key: c.redisKey, Sharded: c.redisSharded, Logger: log})
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("joining the cluster through %s: %w", redacted(c.redisURL), err)
		}
		redisCluster = cl
		so.NewAdapter = cl.NewAdapter
		log.Info("cluster mode", "redis", redacted(c.redisURL), "key", c.redisKey, "sharded", c.redisSharded)
	}
	io := server.New(so)
	if c.authToken != "" {
		io.Use(func(s *server.Socket) error {
			var auth struct {
				Token string `json:"token"`
			}
			_ = json.Unmarshal(s.Handshake().Auth, &auth)
			if subtle.ConstantTimeCompare([]byte(auth.Token), []byte(c.authToken)) != 1 {
				return &server.ConnectError{Message: "not authorized"}
			}
			return nil
		})
	}
	relay(io)
	l, err := io.Listen(c.addr, engine.ListenConfig{HTTP: health, EventLoops: c.eventLoops, Logger: log})
	return l, io, err
}

// relay installs the default protocol: rooms and publishing to them.
func relay(io *server.Server) {
	io.On("join", func(s *server.Socket, ev *server.Event) {
		if room, ok := ev.String(0); ok {
			s.Join(room)
		}
		_ = ev.Ack()
	})
	io.On("leave", func(s *server.Socket, ev *server.Event) {
		if room, ok := ev.String(0); ok {
			s.Leave(room)
		}
		_ = ev.Ack()
	})
	io.On("ping", func(_ *server.Socket, ev *server.Event) { _ = ev.Ack(ev.Args) })
	io.On("publish", func(s *server.Socket, ev *server.Event) {
		room, ok1 := ev.String(0)
		event, ok2 := ev.String(1)
		if ok1 && ok2 {
			_ = s.To(room).Emit(event, ev.From(2))
		}
	})
}

// health answers the load balancer's checks; everything else is 404.
func health(req *http1.Request, _ []byte) engine.HTTPResponse {
	if string(req.Path) == "/healthz" {
		return engine.HTTPResponse{Body: []byte("ok")}
	}
	return engine.HTTPResponse{Status: 404, Body: []byte("Not Found")}
}
