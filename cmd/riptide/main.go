// Command riptide runs the realtime tier: an Engine.IO / Socket.IO server on gnet.
//
//	go run ./cmd/riptide                     # :3000, path /socket.io/, in-memory, no auth
//	go run ./cmd/riptide --addr 127.0.0.1:8080 --cors-origin https://app.example.com
//
// GET /healthz answers 200 "ok" on the same port, for load-balancer checks.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

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
	log.Info("riptide listening", "addr", l.Addr(), "path", srv.Path())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	log.Info("shutting down", "sessions", srv.Count())
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return l.Close(shutdown)
}

// start builds the server from the flags and starts listening.
func start(c config, log *slog.Logger) (*engine.Listener, *engine.Server, error) {
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
	srv := engine.NewServer(opts, sessionLog{log: log})
	l, err := engine.Listen(c.addr, engine.ListenConfig{HTTP: health, EventLoops: c.eventLoops, Logger: log}, srv)
	return l, srv, err
}

// health answers the load balancer's checks; everything else is 404.
func health(req *http1.Request, _ []byte) engine.HTTPResponse {
	if string(req.Path) == "/healthz" {
		return engine.HTTPResponse{Body: []byte("ok")}
	}
	return engine.HTTPResponse{Status: 404, Body: []byte("Not Found")}
}

// sessionLog holds Engine.IO sessions open; the Socket.IO layer takes over from it.
type sessionLog struct{ log *slog.Logger }

func (h sessionLog) OnOpen(s *engine.Session) {
	h.log.Debug("session open", "sid", s.ID(), "remote", s.Request().RemoteAddr())
}
func (h sessionLog) OnMessage(*engine.Session, []byte, bool) {}
func (h sessionLog) OnClose(s *engine.Session, reason engine.CloseReason) {
	h.log.Debug("session closed", "sid", s.ID(), "reason", string(reason))
}
