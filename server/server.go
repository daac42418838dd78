package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/internal/deadline"
	"github.com/riptide-io/riptide/server/internal/serial"
)

// Server is a Socket.IO server: namespaces on top of one Engine.IO server.
type Server struct {
	opts Options
	eng  *engine.Server
	pool *serial.Pool
	// wheel holds the clients' connect timeouts; it starts with the first client (startWheel)
	// and stops on Close, so a Server created and never served holds no goroutine.
	wheel     *deadline.Wheel
	wheelOnce sync.Once

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	dynamics []*dynamic

	inputPauses atomic.Uint64 // see Stats.InputPauses
	counts      counts        // the rest of Stats (stats.go)

	// Drain's state: live counts the sessions between their OnOpen and the end of their
	// OnClose; drainEnded hears each OnClose during a drain (capacity 1: a wake-up, not a
	// count).
	draining   atomic.Bool
	live       atomic.Int64
	drainEnded chan struct{}

	obs      atomic.Pointer[Observer] // see Observe; nil: nothing watches
	observed atomic.Bool              // the observer slot is claimed
}

// dynamic is a parent namespace created with OfFunc: children are created on demand when a
// client connects to a matching name, and share the parent's middlewares and handlers.
type dynamic struct {
	match  func(name string, auth []byte) bool
	parent *Namespace
}

// New creates a server. Serve it with Listen, or put Engine() on an engine.Listener next
// to other servers.
func New(opts Options) *Server {
	s := &Server{opts: opts.withDefaults(), nsps: map[string]*Namespace{}, drainEnded: make(chan struct{}, 1)}
	s.pool = serial.NewPool(s.opts.MaxHandlerWorkers, s.opts.HandlerIdleTimeout)
	s.eng = engine.NewServer(s.opts.Engine, (*engineHandler)(s))
	s.Of("/")
	return s
}

// Engine returns the Engine.IO server underneath.
func (s *Server) Engine() *engine.Server { return s.eng }

// Listen serves the server alone on addr.
func (s *Server) Listen(addr string, cfg engine.ListenConfig) (*engine.Listener, error) {
	return engine.Listen(addr, cfg, s.eng)
}

// Close disconnects every client and stops the server's timers. As with Node's io.close(),
// every socket's disconnect handlers see ReasonServerShutdown, and the clients see their
// transport close (socket.io-client reports "transport close" and reconnects).
func (s *Server) Close() {
	var all []*client
	s.eng.Range(func(sess *engine.Session) bool {
		if c, ok := sess.LoadContext().(*client); ok {
			all = append(all, c)
		}
		return true
	})
	for _, c := range all {
		c.onClose(ReasonServerShutdown) // before the engine's own, later OnClose: a no-op then
	}
	s.eng.CloseAll()
	s.wheelOnce.Do(func() {}) // a server that never had a client has no wheel
	if s.wheel != nil {
		s.wheel.Close()
	}
}

// startWheel starts the connect-timeout wheel on the first client.
func (s *Server) startWheel() *deadline.Wheel {
	s.wheelOnce.Do(func() { s.wheel = deadline.New(runtime.GOMAXPROCS(0)) })
	return s.wheel
}

func (s *Server) recovery() bool { return s.opts.ConnectionStateRecovery != nil }

// Of returns the namespace called name, creating it if needed.
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(s, name, &handlerSet{})
	s.nsps[name] = n
	return n
}

// OfFunc returns a parent namespace for dynamic namespaces: a client connecting to a name
// that is not registered gets a namespace of that name if match(name, auth) is true. The
// children share the parent's middlewares and handlers; broadcasting through the parent
// reaches the sockets of all its children.
func (s *Server) OfFunc(match func(name string, auth []byte) bool) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := newNamespace(s, "/_"+newID(), &handlerSet{})
	parent.adapter = &parentAdapter{srv: s, parent: parent}
	s.dynamics = append(s.dynamics, &dynamic{match: match, parent: parent})
	return parent
}

// OfPattern is OfFunc for names matching re (Node's io.of(/regex/)).
func (s *Server) OfPattern(re *regexp.Regexp) *Namespace {
	return s.OfFunc(func(name string, _ []byte) bool { return re.MatchString(name) })
}

// lookup finds or (for dynamic namespaces) creates the namespace a client asked for.
func (s *Server) lookup(name string, auth []byte) *Namespace {
	s.mu.RLock()
	n := s.nsps[name]
	dyn := s.dynamics
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, d := range dyn {
		if d.match(name, auth) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if n := s.nsps[name]; n != nil {
				return n
			}
			n := newNamespace(s, name, d.parent.h)
			n.parentOf = d.parent
			s.nsps[name] = n
			return n
		}
	}
	return nil
}

// children returns the namespaces created under parent.
func (s *Server) children(parent *Namespace) []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Namespace
	for _, n := range s.nsps {
		if n.parentOf == parent {
			out = append(out, n)
		}
	}
	return out
}

// Shortcuts to the main namespace "/", as in Node (io.on, io.use, io.emit, io.to...).

// Use adds a connection middleware to "/".
func (s *Server) Use(mw func(*Socket) error) { s.Of("/").Use(mw) }

// OnConnection registers a connection listener on "/".
func (s *Server) OnConnection(h func(*Socket)) { s.Of("/").OnConnection(h) }

// On registers an event handler on every socket of "/".
func (s *Server) On(event string, h func(*Socket, *Event)) { s.Of("/").On(event, h) }

// Emit broadcasts to every socket of "/".
func (s *Server) Emit(event string, args ...any) error { return s.Of("/").Emit(event, args...) }

// To selects sockets of "/" in rooms.
func (s *Server) To(rooms ...string) *BroadcastOperator { return s.Of("/").To(rooms...) }

// In is To.
func (s *Server) In(rooms ...string) *BroadcastOperator { return s.Of("/").To(rooms...) }

// Except excludes sockets of "/" in rooms.
func (s *Server) Except(rooms ...string) *BroadcastOperator { return s.Of("/").Except(rooms...) }

// Volatile broadcasts to "/" without queueing.
func (s *Server) Volatile() *BroadcastOperator { return s.Of("/").Volatile() }

// Local limits an operation on "/" to this node.
func (s *Server) Local() *BroadcastOperator { return s.Of("/").Local() }

// Timeout sets the ack timeout of a broadcast to "/".
func (s *Server) Timeout(d time.Duration) *BroadcastOperator { return s.Of("/").Timeout(d) }

// FetchSockets returns the sockets of "/".
func (s *Server) FetchSockets() ([]*RemoteSocket, error) { return s.Of("/").FetchSockets() }

// SocketsJoin makes the sockets of "/" join rooms.
func (s *Server) SocketsJoin(rooms ...string) { s.Of("/").SocketsJoin(rooms...) }

// SocketsLeave makes the sockets of "/" leave rooms.
func (s *Server) SocketsLeave(rooms ...string) { s.Of("/").SocketsLeave(rooms...) }

// DisconnectSockets disconnects the sockets of "/".
func (s *Server) DisconnectSockets(close bool) { s.Of("/").DisconnectSockets(close) }

// ServerSideEmit sends an event to the other nodes (none with the in-memory adapter).
func (s *Server) ServerSideEmit(event string, args ...any) error {
	return s.Of("/").ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck asks the other nodes and collects their answers (see Namespace).
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return s.Of("/").ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit registers a listener for server-side events on "/".
func (s *Server) OnServerSideEmit(event string, h func(args Args, ack func(...any))) {
	s.Of("/").OnServerSideEmit(event, h)
}

// engineHandler receives the Engine.IO sessions of the server.
type engineHandler Server

func (h *engineHandler) OnOpen(sess *engine.Session) {
	s := (*Server)(h)
	c := &client{srv: s, sess: sess}
	c.timer.Init(c)
	sess.SetContext(c)
	s.live.Add(1)
	s.startWheel().Schedule(&c.timer, time.Now().Add(s.opts.ConnectTimeout))
	if s.draining.Load() && s.eng.RefusingHandshakes() {
		// Admitted as the drain began refusing, after it listed the clients to close.
		c.shutdownWhenIdle()
	}
}

func (h *engineHandler) OnMessage(sess *engine.Session, data []byte, binary bool) {
	sess.Context().(*client).onMessage(data, binary)
}

func (h *engineHandler) OnClose(sess *engine.Session, reason engine.CloseReason) {
	s := (*Server)(h)
	if c, ok := sess.Context().(*client); ok {
		c.onClose(reasonOf(reason))
		s.live.Add(-1)
	}
	if s.draining.Load() {
		select {
		case s.drainEnded <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// newID returns a 20-character random id like Node's base64id.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}
