package server

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/riptide-io/riptide/server/engine"
)

// ErrDraining is returned by a second Drain.
var ErrDraining = errors.New("server: already draining")

// DrainOptions configures Server.Drain.
type DrainOptions struct {
	// Delay is how long new clients are still accepted after Drain starts: long enough for
	// the load balancer's health checks to see the node not ready and stop sending it
	// clients. Past it, handshakes get HTTP 503 {"code":"SERVER_DRAINING"}. 0: at once.
	Delay time.Duration
	// Rate is how many connections are closed per second once Delay is over, so that their
	// clients reconnect to the other nodes in waves rather than all in the same second.
	// 0: all at once.
	Rate float64

	clock clock // tests drive the waves with a fake one; nil: the real clock
}

// DrainStats says what a drain did.
type DrainStats struct {
	// Sessions is the number of connections open when the waves began (those that arrived
	// during Delay included).
	Sessions int
	// Forced is the number of connections still open when the drain's context ended: they
	// were closed at once, without waiting for their handler work.
	Forced int
}

// Drain takes the server out of service for a rolling restart, without losing what clients
// already sent:
//
//  1. Draining reports true at once (a readiness check answers "draining");
//  2. new clients are still accepted for o.Delay, then refused with HTTP 503 SERVER_DRAINING
//     (engine.Server.RefuseHandshakes);
//  3. the open connections are closed in waves of o.Rate per second, each once the handler
//     work of its input is done (events already received are handled and their acks sent),
//     at the transport level (Session.Shutdown: no DISCONNECT packet), so that
//     socket.io-client reports "transport close" and reconnects, through the load balancer,
//     to another node; their disconnect handlers see ReasonServerShutdown;
//  4. it returns once every connection is closed and the disconnect handlers have run.
//
// When ctx ends first, the connections still open are closed at once (DrainStats.Forced)
// and ctx's error is returned. Acks a handler sends after it returned (from a goroutine of
// its own) are not waited for. Handshakes stay refused after Drain; Close, or the closing
// of the listener, follows. Safe for concurrent use; a second call returns ErrDraining.
func (s *Server) Drain(ctx context.Context, o DrainOptions) (DrainStats, error) {
	var st DrainStats
	if !s.draining.CompareAndSwap(false, true) {
		return st, ErrDraining
	}
	clk := o.clock
	if clk == nil {
		clk = realClock{}
	}
	if o.Delay > 0 {
		select {
		case <-clk.After(o.Delay):
		case <-ctx.Done():
			return s.forceDrain(st, ctx)
		}
	}
	s.eng.RefuseHandshakes(true)
	// A session registered from here on finds the handshakes refused in OnOpen and closes
	// itself (engineHandler.OnOpen); those registered before are in this list, or still
	// without a client, and then the same holds for them.
	targets := s.clients()
	st.Sessions = len(targets)
	plan := newWavePlan(o.Rate)
	start := clk.Now()
	for k, asked := 0, 0; asked < len(targets); k++ {
		if k > 0 {
			select {
			case <-clk.After(start.Add(time.Duration(k) * plan.every).Sub(clk.Now())):
			case <-ctx.Done():
				return s.forceDrain(st, ctx)
			}
		}
		for q := min(plan.quota(k), len(targets)); asked < q; asked++ {
			targets[asked].shutdownWhenIdle()
		}
	}
	for s.live.Load() > 0 {
		select {
		case <-s.drainEnded: // a session's OnClose ran; it signals after the count dropped
		case <-ctx.Done():
			return s.forceDrain(st, ctx)
		}
	}
	// The disconnect handlers run on the workers after the sessions ended (every OnClose
	// has queued them by now); a cluster adapter or member store closed after Drain must
	// still be there for them.
	for !s.pool.Idle() {
		select {
		case <-time.After(5 * time.Millisecond): // once per drain, not per connection
		case <-ctx.Done():
			return st, ctx.Err()
		}
	}
	return st, nil
}

// Draining reports whether Drain was called. Safe for concurrent use.
func (s *Server) Draining() bool { return s.draining.Load() }

// forceDrain closes every session still open at once, when the drain's context ended.
func (s *Server) forceDrain(st DrainStats, ctx context.Context) (DrainStats, error) {
	s.eng.RefuseHandshakes(true)
	for _, c := range s.clients() {
		st.Forced++
		c.sess.Shutdown()
	}
	return st, ctx.Err()
}

// clients returns the clients of the open sessions; a session whose OnOpen has not run yet
// has none.
func (s *Server) clients() []*client {
	var all []*client
	s.eng.Range(func(sess *engine.Session) bool {
		if c, ok := sess.LoadContext().(*client); ok {
			all = append(all, c)
		}
		return true
	})
	return all
}

// wavePlan spreads the closing of connections at a rate per second: waves every 100 ms, or
// of one connection each when the rate is under 10 per second. Wave k (from 0) runs at
// k*every after the first one.
type wavePlan struct {
	rate  float64 // 0: everything in the first wave
	every time.Duration
}

func newWavePlan(rate float64) wavePlan {
	switch {
	case rate <= 0:
		return wavePlan{}
	case rate < 10:
		return wavePlan{rate: rate, every: time.Duration(float64(time.Second) / rate)}
	}
	return wavePlan{rate: rate, every: 100 * time.Millisecond}
}

// quota is how many connections may have been asked to close once wave k has run: the
// rate times the time up to the end of wave k's interval, so a rate of 15 per second in
// 100 ms waves closes 1, 2, 1, 2, ... connections.
func (p wavePlan) quota(k int) int {
	switch {
	case p.rate <= 0:
		return math.MaxInt
	case p.rate < 10:
		return k + 1
	}
	// The epsilon keeps products such as 3 * 1.1 = 3.3000000000000003 from losing one to
	// rounding the other way (2.9999999999999996).
	return int(math.Floor(float64(k+1)*p.rate/10 + 1e-9))
}

// clock is the time source of the waves.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// shutdownWhenIdle closes the connection at the transport level (Session.Shutdown: no
// DISCONNECT packet, so the client reconnects) once the handler work made from its input
// is done: at once when none is queued, or else when the last task releases it.
func (c *client) shutdownWhenIdle() {
	c.mu.Lock()
	if c.draining {
		c.mu.Unlock()
		return
	}
	c.draining = true
	idle := c.queued == 0
	c.mu.Unlock()
	if idle {
		c.sess.Shutdown()
	}
}
