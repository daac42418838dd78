package engine

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/riptide-io/riptide/codec/eio"
	"github.com/riptide-io/riptide/codec/wsframe"
	"github.com/riptide-io/riptide/server/internal/deadline"
)

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // Close was called; what is queued is delivered, then the transport closes
	stateClosed
)

type heartbeatPhase uint8

const (
	phasePing heartbeatPhase = iota // the timer sends the next ping
	phasePong                       // a ping is out; the timer ends the session
	phaseSlow                       // the client stopped reading: the timer ends the session now
)

// netConn is what a session needs of a connection: to have the connection's event loop run
// its traffic handler (Wake), and which loop that is (broadcasts are grouped per loop). A
// gnet.Conn is one; the state-machine tests use a fake. Both methods are safe for
// concurrent use. Everything that reads or writes bytes stays in the Listener.
type netConn interface {
	Wake(cb gnet.AsyncCallback) error
	EventLoop() gnet.EventLoop
}

// Session is one Engine.IO session (one client), on whichever transport it currently uses.
//
// The session is a state machine that does no I/O. Its transitions (a poll GET arrives or is
// released, a WebSocket probes and upgrades, a packet comes in, the loop flushes, the session
// closes) are methods that change its state and return what the Listener must do: write
// these bytes, park the request, close the connection. Sends from any goroutine go through
// one enqueue path (enqueueLocked) that enforces every limit and wakes the loop that owns the
// connection.
//
// Locking: mu guards everything below it. It is taken by the event loops serving the
// session's connections, by the deadline goroutines and by any goroutine calling Send or
// Close. Order: Session.mu, then the deadline wheel's shard lock; Wake may be called under mu
// because it never blocks. Handler callbacks are never called with mu held.
type Session struct {
	id  string
	srv *Server
	req *Request
	ctx any // written under mu (SetContext); its own callbacks read it without

	mu        sync.Mutex
	state     sessionState
	transport Transport
	phase     heartbeatPhase
	// wakeQueued: a Wake is queued for the connection that will flush out.
	wakeQueued bool
	// inLoop: the WebSocket's event loop is running OnTraffic for this session and flushes
	// out when it ends, so a send need not wake it.
	inLoop bool
	// noop: a parked GET must be released with a noop packet (an upgrade is in progress, or
	// the client closed).
	noop bool
	// paused: the upper layer asked the engine to stop reading (Pause).
	paused bool
	// fanout counts the broadcasts (and the sends queued behind them) posted to this
	// session's event-loop mailbox and not yet run there. While it is not zero, a send
	// goes through the mailbox too, so that it cannot leave ahead of them (fanout.go).
	fanout uint32
	// closeReason is what OnClose reports for a close this side started (stateClosing).
	closeReason CloseReason
	conn        netConn   // the WebSocket when transport is WebSocket
	get         netConn   // the parked long-poll GET, if any
	post        *heldPost // a POST whose answer waits for Resume (polling back-pressure)
	upg         *upgrade  // the probing WebSocket during a polling -> WebSocket upgrade
	// out holds what waits for the transport: encoded frames when the transport is
	// WebSocket, queue records (see appendRecord) when it is polling. Nil when empty, so an
	// idle session holds no buffer.
	out *bytebufferpool.ByteBuffer
	hb  deadline.Timer
	// flushed is closed once out has been written (see Flushed); one channel serves every
	// waiter of the same flush (a slice of them would cost an idle socket 16 bytes more).
	flushed chan struct{}
	// backlog is what the connection still held unsent after the loop's last write: the
	// client reads slower than it is sent to when it grows. It counts toward the limits.
	backlog int
	// pongDeadline is when the outstanding ping expires (phasePong). Requests check it too,
	// so a poll that races the timer goroutine cannot revive an expired session.
	pongDeadline int64 // unix nanoseconds (a time.Time is three words; this is one per idle socket)
	// pingDue is when the next ping is due before rounding to the ping grid (see nextPing).
	pingDue int64
	// closeBy bounds a server-side close that waits for a GET to carry its close packet
	// (the reference's closeTimeout); 0 when no such close is pending. The heartbeat still
	// runs meanwhile, so a client that never polls is gone at its pong deadline, not later.
	closeBy int64
}

// upgrade is the state of a polling -> WebSocket upgrade; allocated only while one runs.
type upgrade struct {
	s      *Session
	probe  netConn
	probed bool // "2probe" was answered; packets are held for the WebSocket
	timer  deadline.Timer
}

func newSession(srv *Server, req *Request, t Transport) *Session {
	s := &Session{id: newID(), srv: srv, req: req, transport: t}
	s.hb.Init(s)
	return s
}

// ID returns the session id (the sid of the handshake). Safe for concurrent use.
func (s *Session) ID() string { return s.id }

// Server returns the server the session belongs to.
func (s *Session) Server() *Server { return s.srv }

// Request returns the handshake request.
func (s *Session) Request() *Request { return s.req }

// Context returns what SetContext stored, for the session's own callbacks (OnMessage,
// OnClose, and code they hand the session to). A goroutine that found the session through
// Server.Range uses LoadContext.
func (s *Session) Context() any { return s.ctx }

// LoadContext returns what SetContext stored, or nil while Handler.OnOpen has not stored it
// yet: a session is in Server.Range from just before its OnOpen. Safe for concurrent use.
func (s *Session) LoadContext() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// SetContext stores the upper layer's per-session state. Call it in Handler.OnOpen.
func (s *Session) SetContext(v any) {
	s.mu.Lock()
	s.ctx = v
	s.mu.Unlock()
}

// Transport returns the current transport ("websocket" once an upgrade completed). Safe for
// concurrent use.
func (s *Session) Transport() Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Writable reports whether a packet sent now would leave at once: true on an open WebSocket
// under the soft write limit, and on polling only while a GET is parked and no upgrade holds
// packets. Volatile packets are dropped when it is false. Safe for concurrent use.
func (s *Session) Writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writableLocked()
}

func (s *Session) writableLocked() bool {
	if s.state != stateOpen {
		return false
	}
	if s.transport == WebSocket {
		return s.queuedLocked() <= s.srv.opts.WriteSoftLimit
	}
	return s.get != nil && (s.upg == nil || !s.upg.probed)
}

// queuedLocked is what waits for the client: queued here and unsent on the connection.
func (s *Session) queuedLocked() int {
	n := s.backlog
	if s.out != nil {
		n += len(s.out.B)
	}
	return n
}

// Pause stops the engine reading the session's input: the message being delivered when
// Pause is called is the last one until Resume, and the connection is no longer read, so
// TCP pushes back on the client (on polling, the answer to the POST that carried the
// message waits, and the client sends no further POST). The Socket.IO layer pauses a client
// whose handler queue is full. Safe for concurrent use.
func (s *Session) Pause() {
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
}

// Resume undoes Pause: input already buffered is delivered on the connection's event loop,
// then reading goes on. Safe for concurrent use.
func (s *Session) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.paused {
		return
	}
	s.paused = false
	if s.transport == WebSocket && s.conn != nil {
		s.wakeQueued = false
		s.wakeLocked(s.conn)
	}
	if s.post != nil {
		_ = s.post.c.Wake(nil)
	}
}

// Paused reports whether Pause is in force. Safe for concurrent use.
func (s *Session) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// Send queues a message packet (binary or text) for the client. data is copied before Send
// returns. Safe for concurrent use; it never blocks on the network.
func (s *Session) Send(data []byte, binary bool) error {
	s.mu.Lock()
	if loop := s.behindFanoutLocked(); loop != nil {
		s.mu.Unlock()
		postBehind(s, loop, prepareOne(data, binary), false)
		return nil
	}
	err := s.enqueueLocked(packetSource{t: eio.Message, data: data, bin: binary}, false)
	s.mu.Unlock()
	if err == nil {
		s.countOut(1, len(data))
	}
	return err
}

// SendMessages queues one text message and its binary attachments as one unit: no other
// sender's packet can come between them. With volatile set they are dropped together
// (ErrDropped) unless the transport can write now. Safe for concurrent use.
func (s *Session) SendMessages(text []byte, attachments [][]byte, volatile bool) error {
	s.mu.Lock()
	if loop := s.behindFanoutLocked(); loop != nil {
		s.mu.Unlock()
		postBehind(s, loop, Prepare(text, attachments), volatile)
		return nil
	}
	err := s.enqueueLocked(packetSource{t: eio.Message, data: text, atts: attachments}, volatile)
	s.mu.Unlock()
	if err == nil {
		size := len(text)
		for _, a := range attachments {
			size += len(a)
		}
		s.countOut(1+len(attachments), size)
	}
	return err
}

// SendPrepared queues p for the client. With volatile set, p is dropped (ErrDropped) unless
// the transport can write it now (see Writable). Safe for concurrent use.
//
// Sends leave in the order they were made, broadcasts (Broadcast) included: while a
// broadcast to the session is still on its way to the event loop, a send is queued behind
// it there, and a drop is then counted (Stats) rather than returned.
func (s *Session) SendPrepared(p *Prepared, volatile bool) error {
	s.mu.Lock()
	if loop := s.behindFanoutLocked(); loop != nil {
		s.mu.Unlock()
		postBehind(s, loop, p, volatile)
		return nil
	}
	err := s.enqueueLocked(packetSource{prep: p}, volatile)
	s.mu.Unlock()
	if err == nil {
		s.countOut(p.packets, p.size)
	}
	return err
}

// packetSource is what a send hands to the enqueue path: one packet with its attachments
// (encoded for the current transport as it is queued), or a Prepared group (encoded once
// for every transport).
type packetSource struct {
	prep *Prepared
	t    eio.Type
	data []byte
	bin  bool
	atts [][]byte
}

// size is what the packets add to the queue, near enough for the limits.
func (p *packetSource) size(transport Transport) int {
	if p.prep != nil {
		if transport == WebSocket {
			return len(p.prep.ws)
		}
		return len(p.prep.rec)
	}
	n := recordHeader + 1 + len(p.data)
	for _, a := range p.atts {
		n += recordHeader + len(a)
	}
	return n
}

func (p *packetSource) appendTo(dst []byte, transport Transport) []byte {
	if p.prep != nil {
		if transport == WebSocket {
			return append(dst, p.prep.ws...)
		}
		return append(dst, p.prep.rec...)
	}
	dst = appendPacket(dst, transport, p.t, p.data, p.bin)
	for _, a := range p.atts {
		dst = appendPacket(dst, transport, eio.Message, a, true)
	}
	return dst
}

// enqueueLocked is the one path by which packets join the outbound queue. It enforces every
// limit: nothing after the session stopped being open, volatile packets only when the
// transport can take them now (counted when dropped), and a session whose unsent data would
// pass WriteHardLimit is closed as a slow consumer instead of growing, on either transport.
func (s *Session) enqueueLocked(p packetSource, volatile bool) error {
	if err := s.admitLocked(p.size(s.transport), volatile); err != nil {
		return err
	}
	if s.out == nil {
		s.out = getBuffer()
	}
	s.out.B = p.appendTo(s.out.B, s.transport)
	s.scheduleLocked()
	return nil
}

// admitLocked applies the limits to n more bytes for the client (see enqueueLocked).
func (s *Session) admitLocked(n int, volatile bool) error {
	if s.state != stateOpen {
		return ErrClosed
	}
	if volatile && !s.writableLocked() {
		s.srv.stats.VolatileDropped.Add(1)
		return ErrDropped
	}
	if s.queuedLocked()+n > s.srv.opts.WriteHardLimit {
		s.slowLocked()
		return ErrClosed
	}
	return nil
}

// Flushed returns a channel closed once everything queued so far on a WebSocket session
// has been handed to the kernel (at once when nothing is queued, on polling, or once the
// session ends). The Socket.IO layer uses it so that a CONNECT reply leaves in its own
// write, ahead of what connection handlers emit. Safe for concurrent use.
func (s *Session) Flushed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil || s.transport != WebSocket || s.state == stateClosed {
		return closedChan
	}
	if s.flushed == nil {
		s.flushed = make(chan struct{})
	}
	return s.flushed
}

// Close closes the session as Node's socket.close() does: packets already queued are
// delivered, then the WebSocket is closed or, on polling, the next GET gets a close packet.
// Handler.OnClose follows with "forced close". Safe for concurrent use.
func (s *Session) Close() { s.closeWith(ReasonForcedClose) }

// Shutdown closes the session as Server.CloseAll does, for one session at a time (a drain):
// packets already queued are delivered, then the transport closes with nothing from the
// layers above (on WebSocket a close frame without status, on polling a close packet to
// the parked or the next GET), which socket.io-client reports as "transport close" and
// answers by reconnecting. Handler.OnClose follows with ReasonServerShutdown. Safe for
// concurrent use.
func (s *Session) Shutdown() { s.closeWith(ReasonServerShutdown) }

func (s *Session) closeWith(reason CloseReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return
	}
	s.state = stateClosing
	s.closeReason = reason
	switch {
	case s.transport == WebSocket:
		s.wakeLocked(s.conn)
	case s.get != nil:
		s.wakeLocked(s.get)
	default:
		s.armCloseWaitLocked()
	}
}

// shutdownPollWait bounds the wait for the next GET of a polling session closed by
// Shutdown or CloseAll, below CloseTimeout: a live client always has a GET on its way
// (engine.io-client polls again as soon as a GET is answered), so past a couple of round
// trips the client is gone, and a drain must not wait CloseTimeout (30 s) for each client
// that vanished between two polls. A GET that comes later gets 400, which socket.io-client
// reports as a transport error and answers by reconnecting too.
const shutdownPollWait = 2 * time.Second

// armCloseWaitLocked bounds how long a closing polling session waits for the GET that will
// carry its close packet (the reference's closeTimeout; shutdownPollWait at most for a
// server going away), without moving the heartbeat's deadline later.
func (s *Session) armCloseWaitLocked() {
	if s.closeBy != 0 {
		return
	}
	wait := s.srv.opts.CloseTimeout
	if s.closeReason == ReasonServerShutdown {
		wait = min(wait, shutdownPollWait)
	}
	s.closeBy = time.Now().Add(wait).UnixNano()
	if at := s.srv.wheel.When(&s.hb); at == 0 || s.closeBy < at {
		s.srv.wheel.Schedule(&s.hb, time.Unix(0, s.closeBy))
	}
}

// scheduleHeartbeatLocked arms the heartbeat timer at at, or earlier when a pending close
// must end sooner.
func (s *Session) scheduleHeartbeatLocked(at int64) {
	if s.closeBy != 0 && s.closeBy < at {
		at = s.closeBy
	}
	s.srv.wheel.Schedule(&s.hb, time.Unix(0, at))
}

// scheduleLocked makes sure a loop will flush out soon.
func (s *Session) scheduleLocked() {
	if s.transport == WebSocket {
		if !s.inLoop {
			s.wakeLocked(s.conn)
		}
		return
	}
	if s.get != nil && (s.upg == nil || !s.upg.probed) {
		s.wakeLocked(s.get)
	}
}

func (s *Session) wakeLocked(c netConn) {
	if c == nil || s.wakeQueued {
		return
	}
	s.wakeQueued = true
	if err := c.Wake(nil); err != nil {
		s.wakeQueued = false
	}
}

// appendPacket appends one packet in the form the transport queues it.
func appendPacket(dst []byte, transport Transport, t eio.Type, data []byte, bin bool) []byte {
	if transport == WebSocket {
		return appendWSPacket(dst, t, data, bin)
	}
	return appendRecord(dst, t, data, bin)
}

// appendWSPacket appends one Engine.IO packet as a WebSocket frame: a text frame holding the
// type digit and the data, or a binary frame holding just the data.
func appendWSPacket(dst []byte, t eio.Type, data []byte, bin bool) []byte {
	if bin {
		return wsframe.AppendFrame(dst, ws.OpBinary, data)
	}
	dst = wsframe.AppendHeader(dst, ws.OpText, 1+len(data))
	dst = append(dst, '0'+byte(t))
	return append(dst, data...)
}

// A queue record is type (1 byte), binary flag (1 byte), length (4 bytes, little endian),
// data. Polling and a held upgrade queue packets this way and encode them when a GET or the
// new WebSocket takes them.
const recordHeader = 6

func appendRecord(dst []byte, t eio.Type, data []byte, bin bool) []byte {
	var flag byte
	if bin {
		flag = 1
	}
	dst = append(dst, byte(t), flag, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(dst[len(dst)-4:], uint32(len(data)))
	return append(dst, data...)
}

// forEachRecord calls f for each queued record in b.
func forEachRecord(b []byte, f func(eio.Packet)) {
	for len(b) >= recordHeader {
		n := int(binary.LittleEndian.Uint32(b[2:6]))
		f(eio.Packet{Type: eio.Type(b[0]), Binary: b[1] == 1, Data: b[recordHeader : recordHeader+n]})
		b = b[recordHeader+n:]
	}
}

// Fire implements deadline.Firer for the heartbeat timer, which also carries the bound of a
// pending close and the slow-consumer close.
func (s *Session) Fire(now time.Time) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	if s.closeBy != 0 && now.UnixNano() >= s.closeBy {
		reason := s.closeReason
		s.mu.Unlock()
		s.terminate(reason)
		return
	}
	switch s.phase {
	case phasePing:
		open := s.state == stateOpen
		s.phase = phasePong
		// Exact, though the ping may leave up to 1% of pingInterval late (never in the past:
		// a pingTimeout shorter than that grid is a degenerate setting).
		s.pongDeadline = max(s.pingDue+int64(s.srv.opts.PingTimeout), now.UnixNano())
		s.scheduleHeartbeatLocked(s.pongDeadline)
		s.mu.Unlock()
		if open {
			s.srv.pings.add(s) // sent with the round's other pings, one task per event loop
		}
	case phasePong:
		if now.UnixNano() < s.pongDeadline { // woken early by a pending close's bound
			s.scheduleHeartbeatLocked(s.pongDeadline)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.terminate(ReasonPingTimeout)
	case phaseSlow:
		s.mu.Unlock()
		s.terminate(ReasonTransportError)
	}
}

// expired ends the session if its pong deadline has passed, whether or not the deadline
// goroutine got to it yet, and reports whether it did.
func (s *Session) expired(now time.Time) bool {
	s.mu.Lock()
	late := s.state != stateClosed && s.phase == phasePong && now.UnixNano() >= s.pongDeadline
	s.mu.Unlock()
	if late {
		s.terminate(ReasonPingTimeout)
	}
	return late
}

// onPong restarts the ping interval, as Node's pingIntervalTimer.refresh() does.
func (s *Session) onPong() {
	s.mu.Lock()
	if s.state != stateClosed && s.phase != phaseSlow {
		s.phase = phasePing
		at, due := s.srv.nextPing(time.Now())
		s.pingDue = due.UnixNano()
		s.scheduleHeartbeatLocked(at.UnixNano())
	}
	s.mu.Unlock()
}

// onPacket handles a packet that arrived on the session's transport, on the loop that read
// it. It returns false when the session ended because of the packet, or when it is paused
// and the caller must stop reading.
func (s *Session) onPacket(p eio.Packet) bool {
	switch p.Type {
	case eio.Message:
		s.countIn(len(p.Data))
		s.mu.Lock()
		open := s.state == stateOpen
		s.mu.Unlock()
		if open {
			s.srv.handler.OnMessage(s, p.Data, p.Binary)
		}
	case eio.Pong:
		s.onPong()
	case eio.Ping:
		// v4: only the server pings; the reference closes with "invalid heartbeat direction".
		s.terminate(ReasonTransportError)
		return false
	case eio.Close:
		// The reference answers a parked GET with a noop, not a close packet, when the
		// client itself closes (Polling.onClose).
		s.mu.Lock()
		s.noop = s.transport == Polling
		s.mu.Unlock()
		s.terminate(ReasonTransportClose)
		return false
	}
	// open, upgrade and noop from a client carry nothing to act on here.
	return true
}

// transportClosed is called when the connection carrying the session's transport is gone.
func (s *Session) transportClosed(reason CloseReason) {
	s.mu.Lock()
	if s.state == stateClosing {
		reason = s.closeReason
	}
	s.mu.Unlock()
	s.terminate(reason)
}

// terminate ends the session: it leaves the registry, its timers stop, connections that still
// carry it are woken so their loops answer or close them, and the handler hears about it once.
func (s *Session) terminate(reason CloseReason) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.srv.stats.closed(reason, s.transport)
	s.srv.wheel.Stop(&s.hb)
	if u := s.upg; u != nil {
		s.srv.wheel.Stop(&u.timer)
		_ = u.probe.Wake(nil)
		s.upg = nil
	}
	if s.transport == Polling && s.out != nil {
		// The reference drops the write buffer on close; the parked GET gets a close packet.
		bytebufferpool.Put(s.out)
		s.out = nil
	}
	s.wakeQueued = false
	if s.transport == WebSocket {
		s.wakeLocked(s.conn)
	} else {
		s.wakeLocked(s.get)
	}
	if s.post != nil {
		_ = s.post.c.Wake(nil)
	}
	if s.flushed != nil {
		close(s.flushed)
		s.flushed = nil
	}
	s.mu.Unlock()
	s.srv.remove(s)
	s.srv.handler.OnClose(s, reason)
}

// takeOutLocked detaches the outbound buffer; the caller writes and releases it.
func (s *Session) takeOutLocked() *bytebufferpool.ByteBuffer {
	b := s.out
	s.out = nil
	return b
}

// slowLocked closes a session whose client does not read: its unsent data passed the hard
// limit. The close runs on the heartbeat timer at once (terminate takes s.mu, which the
// caller holds; a goroutine per slow client would be unbounded). The reason seen by the
// Socket.IO layer is "transport error", as for a broken link.
func (s *Session) slowLocked() {
	if s.phase == phaseSlow || s.state == stateClosed {
		return
	}
	s.srv.stats.SlowClosed.Add(1)
	s.phase = phaseSlow
	s.closeBy = 0
	s.srv.wheel.Schedule(&s.hb, time.Now())
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func getBuffer() *bytebufferpool.ByteBuffer { return bytebufferpool.Get() }
