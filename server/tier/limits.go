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
	wheel *deadline.Wheel // idle deadlines and reservations: timers, no goroutine per socket

	mu      sync.Mutex
	users   map[string]int                  // sockets per user, reservations included
	pending map[*server.Socket]*reservation // admitted, not yet at the connection handler
	idle    sync.Map                        // *server.Socket -> *idleWatch, while connected
}

// reserveTTL bounds how long a reservation waits for its socket's connection handler. A
// socket whose client leaves while the middlewares run is never connected (nor
// disconnected): its slot lapses after this. A socket still on its way after that long is
// counted again by its connection handler, so a lapse costs at most one extra socket.
var reserveTTL = 10 * time.Second

// reservation is the per-user slot the middleware takes for a socket it admits. The
// namespace sends CONNECT before its connection handlers run, so a count kept there would
// let a client connect its next socket before the first is counted (one per CONNECT round
// trip, not only sockets connecting in the same instant).
type reservation struct {
	l     *Limits
	s     *server.Socket
	user  string
	timer deadline.Timer
}

// NewLimits returns the limits; Install puts them on a namespace.
func NewLimits(cfg LimitsConfig) *Limits {
	l := &Limits{cfg: cfg, users: map[string]int{}, pending: map[*server.Socket]*reservation{}}
	if cfg.IdleTimeout > 0 || cfg.MaxPerUser > 0 {
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
// checked and the socket's slot reserved in one step by the middleware, so it holds for
// sockets connecting one after another as well as at the same instant.
func (l *Limits) Install(ns *server.Namespace) {
	if l.cfg.MaxPerUser > 0 {
		ns.Use(l.admit)
	}
	ns.OnConnection(func(s *server.Socket) {
		if id := IdentityOf(s); id != nil && l.cfg.MaxPerUser > 0 {
			l.mu.Lock()
			r := l.pending[s]
			if r != nil {
				delete(l.pending, s)
			} else {
				// Recovered without running the middlewares, or the reservation lapsed.
				l.users[id.User]++
			}
			l.mu.Unlock()
			if r != nil {
				l.wheel.Stop(&r.timer)
			}
		}
		if l.cfg.IdleTimeout > 0 {
			l.watchIdle(s)
		}
	})
	if l.cfg.IdleTimeout > 0 {
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
			l.releaseLocked(id.User)
			l.mu.Unlock()
		}
		if w, ok := l.idle.LoadAndDelete(s); ok {
			l.wheel.Stop(&w.(*idleWatch).timer)
		}
	})
}

// admit is the per-user middleware: it refuses the socket, or reserves its slot.
func (l *Limits) admit(s *server.Socket) error {
	id := IdentityOf(s)
	if id == nil {
		return nil
	}
	l.mu.Lock()
	if l.users[id.User] >= l.cfg.MaxPerUser {
		l.mu.Unlock()
		return connectError(errs[ConnLimitUser])
	}
	l.users[id.User]++
	r := &reservation{l: l, s: s, user: id.User}
	r.timer.Init(r)
	l.pending[s] = r
	l.mu.Unlock()
	// Armed after the unlock: should the connection handler stop it first, it fires on
	// a reservation no longer pending and does nothing.
	l.wheel.Schedule(&r.timer, time.Now().Add(reserveTTL))
	return nil
}

// Fire implements deadline.Firer: the reservation lapses unless its socket has connected.
func (r *reservation) Fire(time.Time) {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[r.s] == r {
		delete(l.pending, r.s)
		l.releaseLocked(r.user)
	}
}

func (l *Limits) releaseLocked(user string) {
	if l.users[user]--; l.users[user] <= 0 {
		delete(l.users, user)
	}
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
