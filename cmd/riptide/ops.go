package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/http1"
)

// node is the process's state as the load balancer's checks see it (docs/operations.md,
// "Health checks"). One per process, like the listener it describes.
type node struct {
	listening atomic.Bool // the public listener accepts connections
	draining  atomic.Bool // taken out of rotation by setDraining
}

var self node

// setDraining takes the node out of rotation without a drain (drain.go's drains does it
// for SIGTERM): /readyz answers 503 "draining" from now on, while the connections it holds
// are served on. Safe for concurrent use.
func (n *node) setDraining() { n.draining.Store(true) }

// ready reports whether the node should get new connections, and why not: it is listening,
// not draining, and, in a cluster, subscribed to Redis (without it broadcasts would stay on
// this node).
func (n *node) ready() (ok bool, reason string) {
	switch {
	case !n.listening.Load():
		return false, "not listening yet"
	case n.draining.Load() || drains != nil && drains.Draining():
		return false, "draining"
	case redisCluster != nil && !redisCluster.Up():
		return false, "waiting for Redis"
	}
	return true, ""
}

// health answers the load balancer's checks on the public port (the engine's HTTP hook, on
// the event loop: nothing here blocks); everything else is 404.
func health(req *http1.Request, _ []byte) engine.HTTPResponse {
	status, ctype, body := check(string(req.Path))
	return engine.HTTPResponse{Status: status, ContentType: ctype, Body: body}
}

// check answers GET /healthz (the process serves: always 200 "ok") and GET /readyz (200
// "ready", or 503 with {"status":"not ready","reason":...}); other paths get 404.
func check(path string) (status int, contentType string, body []byte) {
	switch path {
	case "/healthz":
		return 200, "", []byte("ok")
	case "/readyz":
		if ok, reason := self.ready(); !ok {
			return 503, "application/json", fmt.Appendf(nil, `{"status":"not ready","reason":%q}`, reason)
		}
		return 200, "", []byte("ready")
	}
	return 404, "", []byte("Not Found")
}

// ops is what serveOps started.
type ops struct {
	addr string // the admin listener's address, "" when off
	stop func() // closes the admin listener; the node no longer counts as listening
}

// serveOps marks the node as listening (the caller has its listener) and starts the admin
// listener when admin.addr is set.
func serveOps(c *Config, l *engine.Listener, srv *server.Server, log *slog.Logger) (*ops, error) {
	self.draining.Store(false)
	self.listening.Store(true)
	if c.Admin.Addr == "" {
		return &ops{stop: func() { self.listening.Store(false) }}, nil
	}
	ln, err := net.Listen("tcp", c.Admin.Addr)
	if err != nil {
		self.listening.Store(false)
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{l: l, srv: srv},
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	if api != nil {
		mux.Handle("/api/", api)
		mux.HandleFunc("POST /drain", func(w http.ResponseWriter, r *http.Request) {
			if !api.Authorized(r) {
				http.Error(w, `{"error":{"code":"UNAUTHORIZED","message":"a valid API key is required"}}`, http.StatusUnauthorized)
				return
			}
			log.Info("drain requested on the admin listener", "remote", r.RemoteAddr)
			go func() { _ = drains.Drain(context.Background()) }() // the process exits when it ends
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"draining":true}` + "\n"))
		})
	}
	mux.HandleFunc("GET /{check}", func(w http.ResponseWriter, r *http.Request) {
		status, ctype, body := check(r.URL.Path)
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() { // the admin listener: one goroutine, plus net/http's per request (scrapes, checks)
		defer close(done)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener", "err", err)
		}
	}()
	addr := ln.Addr().String()
	paths := "/metrics /healthz /readyz"
	if api != nil {
		paths += " /api/* POST /drain"
	}
	log.Info("admin listening", "addr", addr, "paths", paths)
	return &ops{addr: addr, stop: func() {
		self.listening.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}}, nil
}

// newLogger is the process log on w, in log.format at log.level (both validated by load).
func newLogger(c *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openCluster joins the cluster of c.Redis without making the start wait for Redis: it
// waits a few seconds for the subscriptions, so that a healthy start serves a joined node
// from its first connection, then goes on; the Cluster keeps trying and /readyz answers
// 503 until it is subscribed.
func openCluster(c *Config, log *slog.Logger, rec *redis.RecoveryOptions) (*redis.Cluster, error) {
	cl, err := redis.Open(c.Redis.URL, redis.Options{Key: c.Redis.Key, Sharded: c.Redis.Sharded, Logger: log, Recovery: rec})
	if err != nil {
		return nil, fmt.Errorf("redis.url %s: %w", redactURL(c.Redis.URL), err)
	}
	log.Info("cluster mode", "redis", redactURL(c.Redis.URL), "key", c.Redis.Key, "sharded", c.Redis.Sharded)
	select {
	case <-cl.Ready():
	case <-time.After(clusterWait):
		log.Warn("waiting for Redis: serving this node alone meanwhile, /readyz answers 503 until subscribed", "redis", redactURL(c.Redis.URL))
	}
	return cl, nil
}

// clusterWait is how long a start waits for Redis before serving without it.
var clusterWait = 3 * time.Second
