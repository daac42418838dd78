package tier

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/internal/deadline"
)

// Connection limits of the tier that need to know a socket, not just its connection: the
// number of sockets per user (after Auth) and the idle timeout. The limits per node and per
// client address are the engine's (engine.Options.MaxSessions, MaxSessionsPerAddress),
// refused before any session exists.

// LimitsConfig configures Limits.
type LimitsConfig struct {
	// MaxPerUser bounds the sockets of one user id on this node; 0: no bound. Sockets
	// without an identity (no Auth) are not counted.
	MaxPerUser int
	// IdleTimeout disconnects a socket that sent no event for this long (a chat app's
	// 30 minutes; heartbeats do not count); 0: never.
	IdleTimeout time.Duration
}

// Limits enforces LimitsConfig on a namespace. Safe for concurrent use; Close it when done.
type Limits struct {
	cfg   LimitsConfig
	wheel *deadline.Wheel // idle deadlines: one timer per socket, no goroutine per socket

	mu    sync.Mutex
	users map[string]int
	idle  sync.Map // *server.Socket -> *idleWatch, while connected
}

// NewLimits returns the limits; Install puts them on a namespace.
func NewLimits(cfg LimitsConfig) *Limits {
	l := &Limits{cfg: cfg, users: map[string]int{}}
	if cfg.IdleTimeout > 0 {
		l.wheel = deadline.New(1)
	}
	return l
}

// Close stops the idle timer wheel.
func (l *Limits) Close() {
	if l.wheel != nil {
		l.wheel.Close()
	}
}

// Install adds the limits to ns: a middleware (install it after Auth, and last, so a
// socket it admits is not refused later) and a connection handler. The per-user bound is
// checked when the socket connects and counted once it has; two sockets of one user
// connecting in the same instant may both pass the check.
func (l *Limits) Install(ns *server.Namespace) {
	if l.cfg.MaxPerUser > 0 {
		ns.Use(func(s *server.Socket) error {
			id := IdentityOf(s)
			if id == nil {
				return nil
			}
			l.mu.Lock()
			n := l.users[id.User]
			l.mu.Unlock()
			if n >= l.cfg.MaxPerUser {
				return connectError(errs[ConnLimitUser])
			}
			return nil
		})
	}
	ns.OnConnection(func(s *server.Socket) {
		if id := IdentityOf(s); id != nil && l.cfg.MaxPerUser > 0 {
			l.mu.Lock()
			l.users[id.User]++
			l.mu.Unlock()
		}
		if l.wheel != nil {
			l.watchIdle(s)
		}
	})
	if l.wheel != nil {
		// One namespace-level middleware stamps every event; a per-socket one would cost
		// each socket its middleware list and closure.
		ns.UseEvent(func(s *server.Socket, _ *server.Event) error {
			if w, ok := l.idle.Load(s); ok {
				w.(*idleWatch).last.Store(time.Now().UnixNano())
			}
			return nil
		})
	}
	// One namespace-level listener, not one per socket (see Namespace.OnDisconnect).
	ns.OnDisconnect(func(s *server.Socket, _ server.DisconnectReason) {
		if id := IdentityOf(s); id != nil && l.cfg.MaxPerUser > 0 {
			l.mu.Lock()
			if l.users[id.User]--; l.users[id.User] <= 0 {
				delete(l.users, id.User)
			}
			l.mu.Unlock()
		}
		if w, ok := l.idle.LoadAndDelete(s); ok {
			l.wheel.Stop(&w.(*idleWatch).timer)
		}
	})
}

// Users returns the number of users with at least one counted socket.
func (l *Limits) Users() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users)
}

// idleWatch is one socket's idle deadline. An event only stores its time; the timer,
// armed for last+IdleTimeout, moves itself forward when it finds a later event, so the hot
// path never touches the wheel.
type idleWatch struct {
	l     *Limits
	s     *server.Socket
	last  atomic.Int64 // unix nanoseconds of the last event
	timer deadline.Timer
}

func (l *Limits) watchIdle(s *server.Socket) {
	w := &idleWatch{l: l, s: s}
	w.timer.Init(w)
	now := time.Now()
	w.last.Store(now.UnixNano())
	l.wheel.Schedule(&w.timer, now.Add(l.cfg.IdleTimeout))
	l.idle.Store(s, w)
}

// Fire implements deadline.Firer.
func (w *idleWatch) Fire(now time.Time) {
	due := time.Unix(0, w.last.Load()).Add(w.l.cfg.IdleTimeout)
	if now.Before(due) {
		w.l.wheel.Schedule(&w.timer, due)
		return
	}
	if !w.s.Connected() {
		return
	}
	_ = w.s.Emit("error", counted(IdleTimeout))
	w.s.Disconnect(false)
}
