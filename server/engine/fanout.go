package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
)

// Stats counts what the slow-consumer policy did. Safe for concurrent use.
type Stats struct {
	// VolatileDropped counts volatile packets dropped because the transport could not
	// take them at once (no pending GET, or a WebSocket over the soft write limit).
	VolatileDropped atomic.Int64
	// SlowClosed counts sessions closed because their unsent data passed the hard limit.
	SlowClosed atomic.Int64
}

// Stats returns the server's counters.
func (srv *Server) Stats() *Stats { return &srv.stats }

// Broadcast hands p to every session in sessions, encoded once: WebSocket sessions are
// grouped by event loop and each loop gets one task that writes the same bytes to all of its
// sessions (one write per socket when nothing else is queued for it, no copy unless the
// kernel's buffer is full). Polling sessions queue p for their next GET. With volatile set,
// sessions that cannot take p at once skip it. Safe for concurrent use.
func Broadcast(p *Prepared, sessions []*Session, volatile bool) {
	var byLoop map[gnet.EventLoop]*fanoutTask
	var single *fanoutTask // most broadcasts touch one or two loops: avoid the map for the first
	for _, s := range sessions {
		s.mu.Lock()
		var loop gnet.EventLoop
		if s.state == stateOpen && s.transport == WebSocket && s.conn != nil {
			loop = s.conn.EventLoop()
		}
		s.mu.Unlock()
		if loop == nil {
			_ = s.SendPrepared(p, volatile)
			continue
		}
		switch {
		case single == nil:
			single = newFanoutTask(loop, p, volatile)
			single.sessions = append(single.sessions, s)
		case single.loop == loop:
			single.sessions = append(single.sessions, s)
		default:
			if byLoop == nil {
				byLoop = map[gnet.EventLoop]*fanoutTask{}
			}
			t := byLoop[loop]
			if t == nil {
				t = newFanoutTask(loop, p, volatile)
				byLoop[loop] = t
			}
			t.sessions = append(t.sessions, s)
		}
	}
	if single != nil {
		single.submit()
	}
	for _, t := range byLoop {
		t.submit()
	}
}

// fanoutTask is one broadcast's work for one event loop.
type fanoutTask struct {
	loop     gnet.EventLoop
	p        *Prepared
	volatile bool
	sessions []*Session
}

var fanoutPool = sync.Pool{New: func() any { return new(fanoutTask) }}

func newFanoutTask(loop gnet.EventLoop, p *Prepared, volatile bool) *fanoutTask {
	t := fanoutPool.Get().(*fanoutTask)
	t.loop, t.p, t.volatile = loop, p, volatile
	return t
}

func (t *fanoutTask) submit() {
	if err := t.loop.Execute(context.Background(), t); err != nil {
		// The engine is shutting down: fall back to the sessions' own queues.
		for _, s := range t.sessions {
			_ = s.SendPrepared(t.p, t.volatile)
		}
		t.release()
	}
}

// Run implements gnet.Runnable; it runs on the event loop that owns the sessions.
func (t *fanoutTask) Run(context.Context) error {
	for _, s := range t.sessions {
		s.deliverOnLoop(t.p.ws, t.volatile)
	}
	t.release()
	return nil
}

func (t *fanoutTask) release() {
	clear(t.sessions)
	t.sessions = t.sessions[:0]
	t.p = nil
	t.loop = nil
	fanoutPool.Put(t)
}

// deliverOnLoop writes frames to the session's WebSocket from its own event loop: straight
// to the connection when nothing is queued ahead of them, else behind what is queued.
func (s *Session) deliverOnLoop(frames []byte, volatile bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.transport != WebSocket || s.conn == nil {
		return
	}
	c := s.conn
	buffered := c.OutboundBuffered() // loop-only, and this is the loop
	if buffered > s.srv.opts.WriteHardLimit {
		s.slowLocked()
		return
	}
	if volatile && (buffered > s.srv.opts.WriteSoftLimit || (s.out != nil && len(s.out.B) > s.srv.opts.WriteSoftLimit)) {
		s.srv.stats.VolatileDropped.Add(1)
		return
	}
	if s.out == nil && !s.wakeQueued {
		_, _ = c.Write(frames) // gnet copies only what the kernel does not take now
		s.backlog = c.OutboundBuffered()
		return
	}
	if s.out == nil {
		s.out = getBuffer()
	}
	s.out.B = append(s.out.B, frames...)
	s.scheduleLocked()
}

// slowLocked closes a session whose client does not read: its unsent data passed the hard
// limit. The reason seen by the Socket.IO layer is "transport error", as for a broken link.
func (s *Session) slowLocked() {
	s.srv.stats.SlowClosed.Add(1)
	go s.terminate(ReasonTransportError) // terminate takes s.mu, which the caller holds
}
