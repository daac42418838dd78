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
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/riptide-io/riptide/codec/wsframe"
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
	// Logger for listener-level events; default slog.Default().
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
	drains  *deadline.Wheel // bounds how long a failed connection is drained before closing
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
	l := &Listener{cfg: cfg, servers: servers, booted: make(chan struct{}), done: make(chan error, 1), log: cfg.Logger, drains: deadline.New(1)}
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
			s.wheel.Close()
		}
		l.drains.Close()
	})
	return err
}

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

// connKind says what a TCP connection currently speaks.
type connKind uint8

const (
	kindHTTP connKind = iota
	kindWebSocket
)

// connState is the per-connection context; it stays small because every idle socket has one.
type connState struct {
	kind connKind
	srv  *Server
	// sess: on a WebSocket, the session it carries (or probes for); on HTTP, the session whose
	// long-poll GET is parked here.
	sess  *Session
	probe bool
	// keepAlive and cors describe the parked GET's eventual response.
	keepAlive bool
	cors      []byte
	asm       wsframe.Assembler
	frag      *bytebufferpool.ByteBuffer // fragments of a message in progress
	// draining: the connection failed (oversized message, protocol error) and its answer
	// (close frame, 413) is written; what the client still sends is discarded until it
	// closes or the drain time ends. Closing at once would make the kernel reset the
	// connection over the unread bytes, and the client could lose the answer.
	draining bool
}

// drainTime bounds a drain.
const drainTime = 2 * time.Second

type drainTimer struct {
	t deadline.Timer
	c gnet.Conn
}

func (d *drainTimer) Fire(time.Time) { _ = d.c.Close() }

// drain stops reading c for real and closes it once the client has closed or drainTime
// passed. The session it carried, if any, ends now. Event loop only.
func (l *Listener) drain(c gnet.Conn, cs *connState, reason CloseReason) gnet.Action {
	if cs.draining {
		return gnet.None
	}
	cs.draining = true
	if s := cs.sess; s != nil {
		cs.sess = nil
		if cs.kind == kindWebSocket && cs.probe {
			s.mu.Lock()
			if s.upg != nil && s.upg.probe == c {
				s.abortUpgradeLocked()
			}
			s.mu.Unlock()
		} else if cs.kind == kindWebSocket {
			s.transportClosed(reason)
		}
	}
	_, _ = c.Discard(-1)
	d := &drainTimer{c: c}
	d.t.Init(d)
	l.drains.Schedule(&d.t, time.Now().Add(drainTime))
	return gnet.None
}

// OnOpen implements gnet.EventHandler.
func (l *Listener) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(&connState{})
	return nil, gnet.None
}

// OnTraffic implements gnet.EventHandler.
func (l *Listener) OnTraffic(c gnet.Conn) gnet.Action {
	cs := c.Context().(*connState)
	if cs.draining {
		_, _ = c.Discard(-1)
		return gnet.None
	}
	if cs.kind == kindWebSocket {
		return l.wsTraffic(c, cs)
	}
	return l.httpTraffic(c, cs)
}

// OnClose implements gnet.EventHandler.
func (l *Listener) OnClose(c gnet.Conn, err error) gnet.Action {
	cs, _ := c.Context().(*connState)
	if cs == nil {
		return gnet.None
	}
	if cs.frag != nil {
		bytebufferpool.Put(cs.frag)
		cs.frag = nil
	}
	s := cs.sess
	if s == nil {
		return gnet.None
	}
	cs.sess = nil
	if cs.kind == kindWebSocket {
		if cs.probe {
			s.mu.Lock()
			if s.upg != nil && s.upg.probe == c {
				s.abortUpgradeLocked()
			}
			s.mu.Unlock()
			return gnet.None
		}
		reason := ReasonTransportClose
		if err != nil {
			reason = ReasonTransportError
		}
		s.transportClosed(reason)
		return gnet.None
	}
	// A parked GET whose connection dropped: the reference closes the session
	// ("poll connection closed prematurely").
	s.mu.Lock()
	parked := s.get == c
	if parked {
		s.get = nil
	}
	s.mu.Unlock()
	if parked {
		s.transportClosed(ReasonTransportError)
	}
	return gnet.None
}
