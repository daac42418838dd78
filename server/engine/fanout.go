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
			single = newFanoutItem(loop, p, volatile)
			single.sessions = append(single.sessions, s)
		case single.loop == loop:
			single.sessions = append(single.sessions, s)
		default:
			if byLoop == nil {
				byLoop = map[gnet.EventLoop]*fanoutItem{}
			}
			it := byLoop[loop]
			if it == nil {
				it = newFanoutItem(loop, p, volatile)
				byLoop[loop] = it
			}
			it.sessions = append(it.sessions, s)
		}
	}
	if single != nil {
		mailboxOf(single.loop).post(single)
	}
	for _, it := range byLoop {
		mailboxOf(it.loop).post(it)
	}
}

// fanoutItem is one broadcast's work for one event loop.
type fanoutItem struct {
	loop     gnet.EventLoop
	p        *Prepared
	volatile bool
	sessions []*Session
}

var itemPool = sync.Pool{New: func() any { return new(fanoutItem) }}

func newFanoutItem(loop gnet.EventLoop, p *Prepared, volatile bool) *fanoutItem {
	it := itemPool.Get().(*fanoutItem)
	it.loop, it.p, it.volatile = loop, p, volatile
	return it
}

func (it *fanoutItem) release() {
	clear(it.sessions)
	it.sessions = it.sessions[:0]
	it.p, it.loop = nil, nil
	itemPool.Put(it)
}

// mailbox collects the broadcasts for one event loop between two of its turns.
type mailbox struct {
	loop      gnet.EventLoop
	mu        sync.Mutex
	pending   []*fanoutItem
	scheduled bool

	// Loop-only scratch, reused from batch to batch.
	work   []*fanoutItem
	dirty  []*Session
	frames [][][]byte
	index  map[*Session]int
}

var mailboxes sync.Map // gnet.EventLoop -> *mailbox; a handful, one per loop

func mailboxOf(loop gnet.EventLoop) *mailbox {
	if m, ok := mailboxes.Load(loop); ok {
		return m.(*mailbox)
	}
	m, _ := mailboxes.LoadOrStore(loop, &mailbox{loop: loop, index: map[*Session]int{}})
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
			s.deliverOnLoop(it.p.ws, it.volatile, nil)
		}
	} else {
		// Several broadcasts: gather each socket's frames so it gets one writev.
		for _, it := range m.work {
			for _, s := range it.sessions {
				s.deliverOnLoop(it.p.ws, it.volatile, m)
			}
		}
		for i, s := range m.dirty {
			s.writeFrames(m.frames[i])
			clear(m.frames[i])
			m.frames[i] = m.frames[i][:0]
		}
		clear(m.dirty)
		m.dirty = m.dirty[:0]
		clear(m.index)
	}
	for i, it := range m.work {
		it.release()
		m.work[i] = nil
	}
	m.work = m.work[:0]
	return nil
}

// gather records frames for s in this batch.
func (m *mailbox) gather(s *Session, frames []byte) {
	i, ok := m.index[s]
	if !ok {
		i = len(m.dirty)
		m.index[s] = i
		m.dirty = append(m.dirty, s)
		if len(m.frames) <= i {
			m.frames = append(m.frames, nil)
		}
	}
	m.frames[i] = append(m.frames[i], frames)
}

// deliverOnLoop hands frames to the session's WebSocket from its own event loop: straight
// to the connection (or to the batch m) when nothing is queued ahead of them, else behind
// what is queued.
func (s *Session) deliverOnLoop(frames []byte, volatile bool, m *mailbox) {
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
		if m != nil {
			m.gather(s, frames)
			return
		}
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

// writeFrames writes a batch gathered by a mailbox in one writev. Event loop only.
func (s *Session) writeFrames(frames [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.conn == nil {
		return
	}
	_, _ = s.conn.Writev(frames)
	s.backlog = s.conn.OutboundBuffered()
}

// slowLocked closes a session whose client does not read: its unsent data passed the hard
// limit. The reason seen by the Socket.IO layer is "transport error", as for a broken link.
func (s *Session) slowLocked() {
	s.srv.stats.SlowClosed.Add(1)
	go s.terminate(ReasonTransportError) // terminate takes s.mu, which the caller holds
}
