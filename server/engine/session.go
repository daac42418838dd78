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
	stateClosing              // Close was called; the transport is being closed
	stateClosed
)

type heartbeatPhase uint8

const (
	phasePing      heartbeatPhase = iota // the timer sends the next ping
	phasePong                            // a ping is out; the timer ends the session
	phaseCloseWait                       // closing a polling session; the timer gives up waiting for a GET
)

// Session is one Engine.IO session (one client), on whichever transport it currently uses.
//
// Locking: mu guards the transport fields and the outbound buffer. It is taken by the event
// loops serving the session's connections, by the deadline goroutines and by any goroutine
// calling Send or Close. Order: Session.mu, then the deadline wheel's shard lock; gnet's
// queue operations (Wake) may be called under mu because they never block.
type Session struct {
	id  string
	srv *Server
	req *Request
	ctx any

	mu        sync.Mutex
	state     sessionState
	transport Transport
	phase     heartbeatPhase
	// wakeQueued: a Wake is queued for the connection that will flush out.
	wakeQueued bool
	// inLoop: the WebSocket's event loop is running OnTraffic for this session and flushes
	// out when it ends, so Send need not wake it.
	inLoop bool
	// noop: a parked GET must be released with a noop packet (an upgrade is in progress).
	noop bool
	conn gnet.Conn // the WebSocket when transport is WebSocket
	get  gnet.Conn // the parked long-poll GET, if any
	upg  *upgrade  // the probing WebSocket during a polling -> WebSocket upgrade
	// out holds what waits for the transport: encoded frames when the transport is
	// WebSocket, queue records (see appendRecord) when it is polling. Nil when empty, so an
	// idle session holds no buffer.
	out *bytebufferpool.ByteBuffer
	hb  deadline.Timer
	// flushed are closed once out has been written (see Flushed).
	flushed []chan struct{}
	// backlog is what gnet still held unsent for the WebSocket after the loop's last write:
	// the client is reading slower than it is sent to when it grows.
	backlog int
	// pongDeadline is when the outstanding ping expires (phasePong). Requests check it too,
	// so a poll that races the timer goroutine cannot revive an expired session.
	pongDeadline int64 // unix nanoseconds (a time.Time is three words; this is one per idle socket)
	// pingDue is when the next ping is due before rounding to the ping grid (see nextPing).
	pingDue int64
	// closeReason is what OnClose reports for a close this side started (stateClosing).
	closeReason CloseReason
	// paused: the upper layer asked the engine to stop reading (Pause).
	paused bool
}

// upgrade is the state of a polling -> WebSocket upgrade; allocated only while one runs.
type upgrade struct {
	s      *Session
	probe  gnet.Conn
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

// Context returns what SetContext stored.
func (s *Session) Context() any { return s.ctx }

// SetContext stores the upper layer's per-session state. Call it in Handler.OnOpen, before
// other goroutines see the session.
func (s *Session) SetContext(v any) { s.ctx = v }

// Transport returns the current transport ("websocket" once an upgrade completed). Safe for
// concurrent use.
func (s *Session) Transport() Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Writable reports whether a packet sent now would leave at once: true on an open WebSocket,
// and on polling only while a GET is parked and no upgrade holds packets. Volatile packets
// are dropped when it is false. Safe for concurrent use.
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
		if s.backlog > s.srv.opts.WriteSoftLimit {
			s.srv.stats.VolatileDropped.Add(1)
			return false
		}
		return true
	}
	return s.get != nil && (s.upg == nil || !s.upg.probed)
}

// Pause stops the engine reading the session's input: the message being delivered when
// Pause is called is the last one until Resume, and the connection is no longer read, so
// TCP pushes back on the client. The Socket.IO layer pauses a socket whose handler queue is
// full. Safe for concurrent use.
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
	if s.transport == WebSocket {
		s.wakeQueued = false
		s.wakeLocked(s.conn)
	}
}

// Send queues a message packet (binary or text) for the client. data is copied before Send
// returns. Safe for concurrent use; it never blocks on the network.
func (s *Session) Send(data []byte, binary bool) error {
	return s.sendPacket(eio.Message, data, binary)
}

func (s *Session) sendPacket(t eio.Type, data []byte, binary bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return ErrClosed
	}
	s.appendLocked(t, data, binary)
	s.scheduleLocked()
	return nil
}

// Flushed returns a channel closed once everything queued so far on a WebSocket session
// has been handed to the kernel (at once when nothing is queued, on polling, or once the
// session ends). The Socket.IO layer uses it so that a CONNECT reply leaves in its own
// write, ahead of what connection handlers emit. Safe for concurrent use.
func (s *Session) Flushed() <-chan struct{} {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil || s.transport != WebSocket || s.state == stateClosed {
		close(ch)
		return ch
	}
	s.flushed = append(s.flushed, ch)
	return ch
}

// Close closes the session as Node's socket.close() does: packets already queued are
// delivered, then the WebSocket is closed or, on polling, the next GET gets a close packet.
// Handler.OnClose follows with "forced close". Safe for concurrent use.
func (s *Session) Close() { s.closeWith(ReasonForcedClose) }

func (s *Session) closeWith(reason CloseReason) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
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
	s.mu.Unlock()
}

// armCloseWaitLocked bounds how long a closing polling session waits for the GET that will
// carry its close packet (the reference's closeTimeout).
func (s *Session) armCloseWaitLocked() {
	if s.phase != phaseCloseWait {
		s.phase = phaseCloseWait
		s.srv.wheel.Schedule(&s.hb, time.Now().Add(s.srv.opts.CloseTimeout))
	}
}

// appendLocked encodes one packet into out, in the form the current transport needs.
func (s *Session) appendLocked(t eio.Type, data []byte, bin bool) {
	if s.out == nil {
		s.out = getBuffer()
	}
	if s.transport == WebSocket {
		s.out.B = appendWSPacket(s.out.B, t, data, bin)
	} else {
		s.out.B = appendRecord(s.out.B, t, data, bin)
	}
	if len(s.out.B) > s.srv.opts.WriteHardLimit {
		s.slowLocked()
	}
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

func (s *Session) wakeLocked(c gnet.Conn) {
	if c == nil || s.wakeQueued {
		return
	}
	s.wakeQueued = true
	if err := c.Wake(nil); err != nil {
		s.wakeQueued = false
	}
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

// Fire implements deadline.Firer for the heartbeat timer.
func (s *Session) Fire(now time.Time) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	switch s.phase {
	case phasePing:
		open := s.state == stateOpen
		s.phase = phasePong
		// Exact, though the ping may leave up to 1% of pingInterval late (never in the past:
		// a pingTimeout shorter than that grid is a degenerate setting).
		s.pongDeadline = s.pingDue + int64(s.srv.opts.PingTimeout)
		if s.pongDeadline < now.UnixNano() {
			s.pongDeadline = now.UnixNano()
		}
		s.srv.wheel.Schedule(&s.hb, time.Unix(0, s.pongDeadline))
		s.mu.Unlock()
		if open {
			s.srv.pings.add(s) // sent with the round's other pings, one task per event loop
		}
	case phasePong:
		s.mu.Unlock()
		s.terminate(ReasonPingTimeout)
	default:
		reason := s.closeReason
		s.mu.Unlock()
		s.terminate(reason)
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
	if s.state != stateClosed && s.phase != phaseCloseWait {
		s.phase = phasePing
		at, due := s.srv.nextPing(time.Now())
		s.pingDue = due.UnixNano()
		s.srv.wheel.Schedule(&s.hb, at)
	}
	s.mu.Unlock()
}

// onPacket handles a packet that arrived on the session's transport, on the loop that read it.
// It returns false when the session ended because of the packet.
func (s *Session) onPacket(p eio.Packet) bool {
	switch p.Type {
	case eio.Message:
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
// carry it are woken so their loops close them, and the handler hears about it once.
func (s *Session) terminate(reason CloseReason) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
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
	for _, ch := range s.flushed {
		close(ch)
	}
	s.flushed = nil
	s.mu.Unlock()
	s.srv.remove(s)
	s.srv.handler.OnClose(s, reason)
}

// takeOut detaches the outbound buffer; the caller writes and releases it.
func (s *Session) takeOutLocked() *bytebufferpool.ByteBuffer {
	b := s.out
	s.out = nil
	return b
}

// Fire implements deadline.Firer for the upgrade timeout: the probe WebSocket is closed and
// the session stays on polling, as in the reference.
func (u *upgrade) Fire(time.Time) {
	s := u.s
	s.mu.Lock()
	if s.upg == u {
		s.abortUpgradeLocked()
	}
	s.mu.Unlock()
}

// abortUpgradeLocked drops the probe and hands held packets back to polling.
func (s *Session) abortUpgradeLocked() {
	u := s.upg
	if u == nil {
		return
	}
	s.upg = nil
	s.srv.wheel.Stop(&u.timer)
	_ = u.probe.Wake(nil) // its loop sees it is no longer the probe and closes it
	s.noop = false
	if s.out != nil && s.get != nil {
		s.wakeLocked(s.get)
	}
}

func getBuffer() *bytebufferpool.ByteBuffer { return bytebufferpool.Get() }
