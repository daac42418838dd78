package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/riptide-io/riptide/server/http1"
	"github.com/riptide-io/riptide/server/internal/deadline"
)

// HTTPHandler answers requests that are for none of the listener's Engine.IO paths (a health
// check, a demo page). It runs on the event loop and must not block. req and body are valid
// only during the call.
type HTTPHandler func(req *http1.Request, body []byte) HTTPResponse

// HTTPResponse is what an HTTPHandler answers.
type HTTPResponse struct {
	Status      int    // default 200
	ContentType string // default text/plain; charset=utf-8
	Header      [][2]string
	Body        []byte
}

// ListenConfig configures a Listener.
type ListenConfig struct {
	// HTTP answers non-Engine.IO requests; nil answers them 404.
	HTTP HTTPHandler
	// EventLoops is the number of gnet event loops; default one per CPU.
	EventLoops int
	// MaxHeaderBytes bounds a request head; default 16 KiB (a larger one gets 431).
	MaxHeaderBytes int
	// HeaderTimeout bounds how long a request head may take to arrive, from the
	// connection's start or the request's first byte; default 60 s (Node's
	// headersTimeout). Past it the client gets 408 and the connection closes.
	HeaderTimeout time.Duration
	// BodyTimeout bounds how long a request body may take after its head; default 300 s
	// (Node's requestTimeout). Past it the client gets 408 and the connection closes.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that starts no new request; default 5 s
	// (Node's keepAliveTimeout). Parked long-polls and WebSockets are not idle: their
	// sessions' heartbeats bound them.
	IdleTimeout time.Duration
	// WriteSoftLimit: a connection with more unsent bytes than this (answers to its own
	// pipelined requests, pongs, broadcasts) is no longer read until the client reads;
	// default 1 MiB.
	WriteSoftLimit int
	// WriteHardLimit closes a connection with more unsent bytes than this; default 16 MiB.
	WriteHardLimit int
	// StallTimeout closes a connection that stays over WriteSoftLimit this long; default 20 s.
	StallTimeout time.Duration
	// Logger for listener-level events, and one info line per handshake refused (by a
	// connection limit or RefuseHandshakes: its code and client address); default
	// slog.Default().
	Logger *slog.Logger
}

// Listener is the gnet reactor: it accepts TCP connections, parses HTTP/1.1 and WebSocket
// frames on its event loops and hands Engine.IO packets to the servers it serves.
type Listener struct {
	gnet.BuiltinEventEngine
	cfg     ListenConfig
	servers []*Server
	eng     gnet.Engine
	addr    string
	booted  chan struct{}
	done    chan error
	log     *slog.Logger
	stop    sync.Once
	// timers holds the connections' own deadlines (header, body, idle, drain, stall): one
	// entry per HTTP connection in one of those states, none for an idle WebSocket.
	timers *deadline.Wheel
	stats  ConnStats
	epfds  sync.Map // gnet.EventLoop -> epoll descriptor (see readctl.go)
}

// Listen starts serving servers on addr ("host:port"; port 0 picks a free one) and returns
// once the listener accepts connections.
func Listen(addr string, cfg ListenConfig, servers ...*Server) (*Listener, error) {
	if len(servers) == 0 {
		return nil, errors.New("engine: Listen needs at least one server")
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 16 << 10
	}
	if cfg.EventLoops <= 0 {
		cfg.EventLoops = runtime.NumCPU()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.HeaderTimeout = orDefault(cfg.HeaderTimeout, 60*time.Second)
	cfg.BodyTimeout = orDefault(cfg.BodyTimeout, 300*time.Second)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, 5*time.Second)
	cfg.StallTimeout = orDefault(cfg.StallTimeout, 20*time.Second)
	cfg.WriteSoftLimit = orDefault(cfg.WriteSoftLimit, 1<<20)
	cfg.WriteHardLimit = orDefault(cfg.WriteHardLimit, 16<<20)
	l := &Listener{cfg: cfg, servers: servers, booted: make(chan struct{}), done: make(chan error, 1), log: cfg.Logger, timers: deadline.New(1)}
	for _, srv := range servers {
		srv.start()
	}
	go func() { // one per listener: gnet.Run blocks until the engine stops
		l.done <- gnet.Run(l, "tcp://"+addr,
			gnet.WithNumEventLoop(cfg.EventLoops),
			gnet.WithReusePort(cfg.EventLoops > 1),
			// Rebind at once after a restart, with connections of the last run still closing.
			gnet.WithReuseAddr(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithTCPKeepAlive(time.Minute),
			gnet.WithLogger(gnetLogger{cfg.Logger}),
		)
	}()
	select {
	case <-l.booted:
		return l, nil
	case err := <-l.done:
		if err == nil {
			err = errors.New("engine: listener stopped before it started")
		}
		return nil, fmt.Errorf("engine: listen %s: %w", addr, err)
	}
}

// Addr returns the address the listener is bound to (with the real port when 0 was asked).
func (l *Listener) Addr() string { return l.addr }

// Close stops accepting, closes every session of the served servers and stops the event
// loops, waiting at most until ctx ends.
func (l *Listener) Close(ctx context.Context) error {
	var err error
	l.stop.Do(func() {
		for _, s := range l.servers {
			s.CloseAll()
		}
		err = l.eng.Stop(ctx)
		for _, s := range l.servers {
			s.stop()
		}
		l.timers.Close()
	})
	return err
}

// Stats returns the listener's connection counters.
func (l *Listener) Stats() *ConnStats { return &l.stats }

// Wait blocks until the listener stops and returns why.
func (l *Listener) Wait() error { return <-l.done }

// OnBoot implements gnet.EventHandler.
func (l *Listener) OnBoot(eng gnet.Engine) gnet.Action {
	l.eng = eng
	l.addr = boundAddr(eng)
	close(l.booted)
	return gnet.None
}

func boundAddr(eng gnet.Engine) string {
	fd, err := eng.Dup()
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return ""
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return ""
}

// gnetLogger sends gnet's own log lines to slog; its chatty Info lines become Debug.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug("gnet: " + fmt.Sprintf(f, a...)) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug("gnet: " + fmt.Sprintf(f, a...)) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn("gnet: " + fmt.Sprintf(f, a...)) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error("gnet: " + fmt.Sprintf(f, a...)) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error("gnet: " + fmt.Sprintf(f, a...)) }

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
