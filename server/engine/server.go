package engine

import (
	"crypto/rand"

	"encoding/base64"
	"github.com/riptide-io/riptide/codec/eio"
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/server/internal/deadline"
)

// Handler receives a server's session events. The Socket.IO layer implements it.
type Handler interface {
	// OnOpen is called once per session, right after the handshake was written, on the event
	// loop that accepted it. It must not block. Set per-session state with Session.SetContext here.
	OnOpen(s *Session)
	// OnMessage is called for each message packet, on the event loop that read it, in the order
	// the client sent them. data is valid only during the call (it points into the loop's
	// read buffer): copy what you keep. It must not block.
	OnMessage(s *Session, data []byte, binary bool)
	// OnClose is called once when the session ends, from an event loop or a timer goroutine.
	// It must not block.
	OnClose(s *Session, reason CloseReason)
}

// UpgradeHandler is implemented by Handlers that want to hear of transport upgrades:
// OnUpgrade is called once a session moved from polling to WebSocket, on the event loop of
// the new WebSocket, after the session switched. It must not block.
type UpgradeHandler interface {
	OnUpgrade(s *Session)
}

// Server is one Engine.IO server answering on one path. Serve it with Listen; several
// servers (on different paths) may share one listener.
type Server struct {
	opts     Options
	handler  Handler
	upgrades UpgradeHandler // handler, when it implements it
	wheel    *deadline.Wheel

	sessions [64]sessionShard
	count    atomic.Int64
	stats    Stats
	pings    pingBatch

	// The server owns its deadline wheel and its per-loop mailboxes: the wheel's goroutines
	// start when a Listener first serves the server and stop with it, so a Server that is
	// created and never served holds none, and nothing outlives it in a process-wide map.
	startOnce, stopOnce sync.Once
	mailboxes           sync.Map // gnet.EventLoop -> *mailbox; one per loop
	addrs               addrCounts
	refusing            atomic.Bool // RefuseHandshakes

	// Precomputed open-packet parts: they never change for a server.
	upgradesPolling bool
}

type sessionShard struct {
	mu sync.RWMutex
	m  map[string]*Session
}

var shardSeed = maphash.MakeSeed()

// NewServer creates a server with the given options (zero fields take the reference's
// defaults) and handler.
func NewServer(opts Options, h Handler) *Server {
	s := &Server{opts: opts.withDefaults(), handler: h}
	s.upgrades, _ = h.(UpgradeHandler)
	for i := range s.sessions {
		s.sessions[i].m = make(map[string]*Session)
	}
	s.upgradesPolling = !s.opts.DisallowUpgrades && s.opts.allows(WebSocket)
	return s
}

// start starts the server's deadline wheel; Listen calls it.
func (srv *Server) start() {
	srv.startOnce.Do(func() {
		srv.wheel = deadline.New(runtime.GOMAXPROCS(0))
		srv.wheel.OnRound(srv.pings.flush)
	})
}

// stop stops what start started and drops the mailboxes; the Listener calls it on Close,
// after its event loops stopped.
func (srv *Server) stop() {
	srv.stopOnce.Do(func() {
		srv.startOnce.Do(func() {}) // a server never started has nothing to stop
		if srv.wheel != nil {
			srv.wheel.Close()
		}
		srv.mailboxes.Range(func(k, _ any) bool { srv.mailboxes.Delete(k); return true })
	})
}

// Options returns the effective options (defaults filled in).
func (srv *Server) Options() Options { return srv.opts }

// Path returns the path the server answers on, with its trailing slash.
func (srv *Server) Path() string { return srv.opts.Path }

// Count returns the number of open sessions. Safe for concurrent use.
func (srv *Server) Count() int { return int(srv.count.Load()) }

// Session returns the open session with the given id, or nil. Safe for concurrent use.
func (srv *Server) Session(id string) *Session {
	sh := srv.shard(id)
	sh.mu.RLock()
	s := sh.m[id]
	sh.mu.RUnlock()
	return s
}

// Range calls f for every open session until f returns false. Safe for concurrent use; f
// must not open or close sessions of this server.
func (srv *Server) Range(f func(*Session) bool) {
	for i := range srv.sessions {
		sh := &srv.sessions[i]
		sh.mu.RLock()
		for _, s := range sh.m {
			if !f(s) {
				sh.mu.RUnlock()
				return
			}
		}
		sh.mu.RUnlock()
	}
}

// CloseAll closes every session, as Node's engine.close() does; OnClose reports
// ReasonServerShutdown.
func (srv *Server) CloseAll() {
	var all []*Session
	srv.Range(func(s *Session) bool { all = append(all, s); return true })
	for _, s := range all {
		s.closeWith(ReasonServerShutdown)
	}
}

func (srv *Server) shard(id string) *sessionShard {
	return &srv.sessions[maphash.String(shardSeed, id)%uint64(len(srv.sessions))]
}

func (srv *Server) add(s *Session) {
	sh := srv.shard(s.id)
	sh.mu.Lock()
	sh.m[s.id] = s
	sh.mu.Unlock()
	srv.count.Add(1)
	srv.countAddr(s, 1)
}

func (srv *Server) remove(s *Session) {
	sh := srv.shard(s.id)
	sh.mu.Lock()
	removed := sh.m[s.id] == s
	if removed {
		delete(sh.m, s.id)
		srv.count.Add(-1)
	}
	sh.mu.Unlock()
	if removed {
		srv.countAddr(s, -1)
	}
}

// newID returns a 20-character id from 15 random bytes, the shape of Node's base64id
// (base64 with '-' and '_'), so ids look the same to tooling that inspects them.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return base64.URLEncoding.EncodeToString(b[:])
}

// nextPing returns when a session that just opened or answered a ping gets its next ping:
// due is pingInterval later, at is due rounded up to a grid of pingInterval/100 shared by
// all sessions (250 ms at the default 25 s). Pings then fall due in groups that leave in one
// task per event loop, and the loops wake a few times a second instead of for every socket.
// The session's lifetime stays exact: the pong deadline counts from due, so a silent client
// is gone pingInterval + pingTimeout after its last pong, as with the reference.
func (srv *Server) nextPing(now time.Time) (at, due time.Time) {
	due = now.Add(srv.opts.PingInterval)
	grid := srv.opts.PingInterval / 100
	if grid < time.Millisecond {
		return due, due
	}
	at = due
	if r := at.UnixNano() % int64(grid); r != 0 {
		at = at.Add(grid - time.Duration(r))
	}
	return at, due
}

// pingBatch gathers the pings due in one round of the deadline wheel, so they go out as one
// broadcast (one task per event loop) instead of one wake per session.
type pingBatch struct {
	mu       sync.Mutex
	sessions []*Session
}

// pingFrames is the ping packet, encoded once for both transports.
var pingFrames = &Prepared{
	ws:  appendWSPacket(nil, eio.Ping, nil, false),
	rec: appendRecord(nil, eio.Ping, nil, false),
}

func (b *pingBatch) add(s *Session) {
	b.mu.Lock()
	b.sessions = append(b.sessions, s)
	b.mu.Unlock()
}

func (b *pingBatch) flush() {
	b.mu.Lock()
	batch := b.sessions
	b.sessions = nil
	b.mu.Unlock()
	if len(batch) > 0 {
		Broadcast(pingFrames, batch, false)
	}
}
