package engine

import (
	"context"
	"sync"

	"github.com/panjf2000/gnet/v2"

	"github.com/riptide-io/riptide/codec/eio"
)

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
			s.fanout++
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
				s.sendPosted(it.p, it.volatile)
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
		n := 0
		for _, s := range it.sessions {
			if s.deliverOnLoop(it.p, it.volatile, nil) {
				n++
			}
		}
		it.countOut(n)
	} else {
		// Several broadcasts: gather each socket's frames so it gets one writev.
		for _, it := range m.work {
			n := 0
			for _, s := range it.sessions {
				if s.deliverOnLoop(it.p, it.volatile, m) {
					n++
				}
			}
			it.countOut(n)
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

// countOut adds n sessions' worth of the item's packets to Stats: one add per broadcast and
// loop, not one per recipient.
func (it *fanoutItem) countOut(n int) {
	if n > 0 {
		k := it.sessions[0].id[0]
		it.srv.stats.PacketsOut.add(k, uint64(n*it.p.packets))
		it.srv.stats.BytesOut.add(k, uint64(n*it.p.size))
	}
}

// deliverOnLoop hands p to the session's WebSocket from its own event loop: straight to the
// connection (or to the batch m) when nothing is queued ahead of it, else through the
// session's queue. The same limits apply either way (admitLocked). It reports whether p was
// accepted (written or queued).
func (s *Session) deliverOnLoop(p *Prepared, volatile bool, m *mailbox) bool {
	c, ok := s.admitOnLoop(p, volatile)
	if c == nil {
		return ok
	}
	if m != nil {
		m.gather(s, c, p.ws)
		return true
	}
	_, _ = c.Write(p.ws) // gnet copies only what the kernel does not take now
	s.written(c.OutboundBuffered())
	return true
}

// admitOnLoop returns the connection to write p to directly, or nil when p was queued,
// dropped, or the session is gone; ok reports whether p was accepted (written or queued).
// Event loop only (it reads the connection's backlog).
func (s *Session) admitOnLoop(p *Prepared, volatile bool) (_ gnet.Conn, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fanout > 0 {
		s.fanout--
	}
	if s.state != stateOpen || s.transport != WebSocket {
		return nil, false
	}
	c, isConn := s.conn.(gnet.Conn)
	if !isConn {
		return nil, false
	}
	s.backlog = c.OutboundBuffered() // loop-only, and this is the loop
	if s.out != nil || s.wakeQueued || s.inLoop {
		return nil, s.enqueueLocked(packetSource{prep: p}, volatile) == nil
	}
	if s.admitLocked(len(p.ws), volatile) != nil {
		return nil, false
	}
	return c, true
}

// writeFrames writes a batch gathered by a mailbox in one writev. Event loop only.
func (m *mailbox) writeFrames(s *Session, c gnet.Conn, frames [][]byte) {
	_, _ = c.Writev(frames)
	s.written(c.OutboundBuffered())
}

// behindFanoutLocked returns the session's event loop when a send must be queued behind
// broadcasts posted there and not yet run, counting it among them; nil otherwise (the
// usual case: the send takes the session's own queue). Caller holds s.mu.
func (s *Session) behindFanoutLocked() gnet.EventLoop {
	if s.fanout == 0 || s.state != stateOpen || s.transport != WebSocket || s.conn == nil {
		return nil
	}
	s.fanout++
	return s.conn.EventLoop()
}

// postBehind posts p for s alone to the mailbox of loop, behind the broadcasts there.
func postBehind(s *Session, loop gnet.EventLoop, p *Prepared, volatile bool) {
	it := newFanoutItem(s.srv, loop, p, volatile)
	it.sessions = append(it.sessions, s)
	s.srv.mailboxOf(loop).post(it)
}

// sendPosted queues p, posted to a mailbox that could not run it (the engine is shutting
// down), on the session's own queue.
func (s *Session) sendPosted(p *Prepared, volatile bool) {
	s.mu.Lock()
	if s.fanout > 0 {
		s.fanout--
	}
	err := s.enqueueLocked(packetSource{prep: p}, volatile)
	s.mu.Unlock()
	if err == nil {
		s.countOut(p.packets, p.size)
	}
}

// prepareOne is Prepare for a single message, text or binary.
func prepareOne(data []byte, binary bool) *Prepared {
	p := &Prepared{packets: 1, size: len(data)}
	p.ws = appendWSPacket(make([]byte, 0, 15+len(data)), eio.Message, data, binary)
	p.rec = appendRecord(make([]byte, 0, recordHeader+1+len(data)), eio.Message, data, binary)
	return p
}
