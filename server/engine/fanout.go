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

// ConnStats counts what a Listener did to protect itself from its connections. Safe for
// concurrent use.
type ConnStats struct {
	// ReadStopped counts the times a connection stopped being read: its unread answers
	// passed WriteSoftLimit, or its session was paused by the upper layer.
	ReadStopped atomic.Int64
	// StalledClosed counts connections closed because they did not read their answers:
	// still over WriteSoftLimit after StallTimeout, or over WriteHardLimit.
	StalledClosed atomic.Int64
	// TimedOut counts HTTP connections closed by the header, body or idle timeouts.
	TimedOut atomic.Int64
}

// Stats returns the server's counters.
func (srv *Server) Stats() *Stats { return &srv.stats }

// Broadcast hands p to every session in sessions, encoded once: WebSocket sessions are
// grouped by event loop and each loop's mailbox gets one item for all of its sessions. The
// loop drains its mailbox in one task, so broadcasts that pile up while it is busy leave in
// one write per socket (a writev of the shared frames: no copy per recipient unless the
// kernel's buffer is full). Polling sessions queue p for their next GET. With volatile set,
// sessions that cannot take p at once skip it. Safe for concurrent use.
func Broadcast(p *Prepared, sessions []*Session, volatile bool) {
	var byLoop map[gnet.EventLoop]*fanoutItem
	var single *fanoutItem // most broadcasts touch one or two loops: avoid the map for the first
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
			single = newFanoutItem(s.srv, loop, p, volatile)
			single.sessions = append(single.sessions, s)
		case single.loop == loop && single.srv == s.srv:
			single.sessions = append(single.sessions, s)
		default:
			if byLoop == nil {
				byLoop = map[gnet.EventLoop]*fanoutItem{}
			}
			it := byLoop[loop]
			if it == nil {
				it = newFanoutItem(s.srv, loop, p, volatile)
				byLoop[loop] = it
			}
			it.sessions = append(it.sessions, s)
		}
	}
	if single != nil {
		single.srv.mailboxOf(single.loop).post(single)
	}
	for _, it := range byLoop {
		it.srv.mailboxOf(it.loop).post(it)
	}
}

// fanoutItem is one broadcast's work for one event loop.
type fanoutItem struct {
	srv      *Server
	loop     gnet.EventLoop
	p        *Prepared
	volatile bool
	sessions []*Session
}

var itemPool = sync.Pool{New: func() any { return new(fanoutItem) }}

func newFanoutItem(srv *Server, loop gnet.EventLoop, p *Prepared, volatile bool) *fanoutItem {
	it := itemPool.Get().(*fanoutItem)
	it.srv, it.loop, it.p, it.volatile = srv, loop, p, volatile
	return it
}

func (it *fanoutItem) release() {
	clear(it.sessions)
	it.sessions = it.sessions[:0]
	it.p, it.loop, it.srv = nil, nil, nil
	itemPool.Put(it)
}

// mailbox collects the broadcasts for one event loop between two of its turns. The Server
// owns its mailboxes (one per event loop it has sessions on) and drops them on Close.
type mailbox struct {
	loop      gnet.EventLoop
	mu        sync.Mutex
	pending   []*fanoutItem
	scheduled bool

	// Loop-only scratch, reused from batch to batch.
	work   []*fanoutItem
	dirty  []*Session
	conns  []gnet.Conn
	frames [][][]byte
	index  map[*Session]int
}

func (srv *Server) mailboxOf(loop gnet.EventLoop) *mailbox {
	if m, ok := srv.mailboxes.Load(loop); ok {
		return m.(*mailbox)
	}
	m, _ := srv.mailboxes.LoadOrStore(loop, &mailbox{loop: loop, index: map[*Session]int{}})
	return m.(*mailbox)
}

func (m *mailbox) post(it *fanoutItem) {
	m.mu.Lock()
	m.pending = append(m.pending, it)
	start := !m.scheduled
	m.scheduled = true
	m.mu.Unlock()
	if !start {
		return
	}
	if err := m.loop.Execute(context.Background(), m); err != nil {
		// The engine is shutting down: fall back to the sessions' own queues.
		m.mu.Lock()
		items := m.pending
		m.pending, m.scheduled = nil, false
		m.mu.Unlock()
		for _, it := range items {
			for _, s := range it.sessions {
				_ = s.SendPrepared(it.p, it.volatile)
			}
			it.release()
		}
	}
}

// Run implements gnet.Runnable; it runs on the mailbox's event loop and delivers every
// broadcast posted since the last run.
func (m *mailbox) Run(context.Context) error {
	m.mu.Lock()
	m.work, m.pending = m.pending, m.work[:0]
	m.scheduled = false
	m.mu.Unlock()
	if len(m.work) == 1 {
		it := m.work[0]
		for _, s := range it.sessions {
			s.deliverOnLoop(it.p, it.volatile, nil)
		}
	} else {
		// Several broadcasts: gather each socket's frames so it gets one writev.
		for _, it := range m.work {
			for _, s := range it.sessions {
				s.deliverOnLoop(it.p, it.volatile, m)
			}
		}
		for i, s := range m.dirty {
			m.writeFrames(s, m.conns[i], m.frames[i])
			clear(m.frames[i])
			m.frames[i] = m.frames[i][:0]
		}
		clear(m.dirty)
		m.dirty = m.dirty[:0]
		clear(m.conns)
		m.conns = m.conns[:0]
		clear(m.index)
	}
	for i, it := range m.work {
		it.release()
		m.work[i] = nil
	}
	m.work = m.work[:0]
	return nil
}

// gather records frames for s (on c) in this batch.
func (m *mailbox) gather(s *Session, c gnet.Conn, frames []byte) {
	i, ok := m.index[s]
	if !ok {
		i = len(m.dirty)
		m.index[s] = i
		m.dirty = append(m.dirty, s)
		m.conns = append(m.conns, c)
		if len(m.frames) <= i {
			m.frames = append(m.frames, nil)
		}
	}
	m.frames[i] = append(m.frames[i], frames)
}

// deliverOnLoop hands p to the session's WebSocket from its own event loop: straight to the
// connection (or to the batch m) when nothing is queued ahead of it, else through the
// session's queue. The same limits apply either way (admitLocked).
func (s *Session) deliverOnLoop(p *Prepared, volatile bool, m *mailbox) {
	c := s.admitOnLoop(p, volatile)
	if c == nil {
		return
	}
	if m != nil {
		m.gather(s, c, p.ws)
		return
	}
	_, _ = c.Write(p.ws) // gnet copies only what the kernel does not take now
	s.written(c.OutboundBuffered())
}

// admitOnLoop returns the connection to write p to directly, or nil when p was queued,
// dropped, or the session is gone. Event loop only (it reads the connection's backlog).
func (s *Session) admitOnLoop(p *Prepared, volatile bool) gnet.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.transport != WebSocket {
		return nil
	}
	c, ok := s.conn.(gnet.Conn)
	if !ok {
		return nil
	}
	s.backlog = c.OutboundBuffered() // loop-only, and this is the loop
	if s.out != nil || s.wakeQueued || s.inLoop {
		_ = s.enqueueLocked(packetSource{prep: p}, volatile)
		return nil
	}
	if s.admitLocked(len(p.ws), volatile) != nil {
		return nil
	}
	return c
}

// writeFrames writes a batch gathered by a mailbox in one writev. Event loop only.
func (m *mailbox) writeFrames(s *Session, c gnet.Conn, frames [][]byte) {
	_, _ = c.Writev(frames)
	s.written(c.OutboundBuffered())
}
