package engine

import (
	"reflect"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/riptide-io/riptide/codec/wsframe"
	"github.com/riptide-io/riptide/server/http1"
	"github.com/riptide-io/riptide/server/internal/deadline"
)

// connKind says what a TCP connection currently speaks.
type connKind uint8

const (
	kindHTTP connKind = iota
	kindWebSocket
)

// connState is the per-connection context; it stays small because every idle socket has one.
type connState struct {
	kind connKind
	srv  *Server
	// sess: on a WebSocket, the session it carries (or probes for); on HTTP, the session whose
	// long-poll GET is parked here, or whose POST answer is held (held).
	sess  *Session
	probe bool
	held  bool
	// keepAlive (and the timer's cors) describe the parked GET's or held POST's eventual
	// response.
	keepAlive bool
	asm       wsframe.Assembler
	frag      *bytebufferpool.ByteBuffer // fragments of a message in progress
	// draining: the connection failed (oversized message, protocol error, timeout) and its
	// answer (close frame, 413, 431, 408) is written; what the client still sends is
	// discarded until it closes or the drain time ends. Closing at once would make the
	// kernel reset the connection over the unread bytes, and the client could lose the
	// answer (a 1 MiB head, a message one byte over the limit).
	draining bool
	// readOff: the connection's descriptor is not polled for input (readctl.go).
	readOff bool
	// stalled: the client does not read its answers; input waits until it does.
	stalled bool
	// timer is the connection's deadline, allocated while it has one (HTTP connections);
	// an idle WebSocket or a parked poll has none.
	timer *connTimer
}

// timerKind says what a connection's deadline is for.
type timerKind uint32

const (
	timerNone  timerKind = iota
	timerHead            // the next request head must arrive (408)
	timerBody            // the request body must arrive (408)
	timerIdle            // a keep-alive connection must start a request (close)
	timerStall           // recheck a connection over the soft write limit
	timerDrain           // stop draining a failed connection (close)
)

// stallCheck is how often a connection over the soft write limit is looked at again: gnet
// resumes polling it for input by itself once its output drains, but input that is already
// buffered needs a turn of the loop to be served.
const stallCheck = 50 * time.Millisecond

// drainTime bounds a drain.
const drainTime = 2 * time.Second

// connTimer is one connection's deadline on the listener's wheel. Fire runs on the wheel's
// goroutine: it closes a drained connection, and otherwise wakes the loop, which acts on the
// expiry (writes 408, closes, or looks at a stalled connection again).
type connTimer struct {
	t     deadline.Timer
	c     gnet.Conn
	kind  timerKind // loop-only
	gen   uint32    // loop-only: bumped on every arm, so a stale expiry is recognised
	since int64     // loop-only: when the stall began (unix nanoseconds)
	// chunked is the scan state of a chunked request body in progress (HTTP connections
	// only, which are the ones with a timer: it costs an idle WebSocket nothing).
	chunked  http1.ChunkedState
	chunking bool
	// cors holds the CORS header lines for a parked GET's or held POST's answer.
	cors []byte
	// continued: "100 Continue" was sent for the request in progress.
	continued bool
	armGen    atomic.Uint32
	fired     atomic.Uint32 // the gen that expired, 0 when none
	drain     atomic.Bool
}

func (t *connTimer) Fire(time.Time) {
	if t.drain.Load() {
		_ = t.c.Close()
		return
	}
	t.fired.Store(t.armGen.Load())
	_ = t.c.Wake(nil)
}

func newConnTimer(c gnet.Conn) *connTimer {
	t := &connTimer{c: c}
	t.t.Init(t)
	return t
}

// chunkState returns the scan state of the chunked body in progress, starting one if none
// is. Event loop only.
func (cs *connState) chunkState(c gnet.Conn) *http1.ChunkedState {
	if cs.timer == nil {
		cs.timer = newConnTimer(c)
	}
	if !cs.timer.chunking {
		cs.timer.chunked = http1.ChunkedState{}
		cs.timer.chunking = true
	}
	return &cs.timer.chunked
}

// endChunked forgets the chunked body's scan state (the body is complete or refused).
func (cs *connState) endChunked() {
	if cs.timer != nil {
		cs.timer.chunking = false
	}
}

// arm sets the connection's deadline to kind, d from now, unless it is already armed for
// kind (a request head arriving in pieces keeps the deadline of its first byte). Event loop
// only.
func (l *Listener) arm(c gnet.Conn, cs *connState, kind timerKind, d time.Duration) {
	t := cs.timer
	if t == nil {
		t = newConnTimer(c)
		cs.timer = t
	} else if t.kind == kind {
		return
	}
	t.kind = kind
	t.gen++
	if t.gen == 0 {
		t.gen = 1
	}
	t.armGen.Store(t.gen)
	t.drain.Store(kind == timerDrain)
	l.timers.Schedule(&t.t, time.Now().Add(d))
}

// disarm stops the connection's deadline; keep=false also drops the timer (the connection
// becomes a WebSocket, which keeps none). Event loop only.
func (l *Listener) disarm(cs *connState, keep bool) {
	t := cs.timer
	if t == nil {
		return
	}
	l.timers.Stop(&t.t)
	t.kind = timerNone
	if !keep {
		cs.timer = nil
	}
}

// expired returns the kind of the connection's deadline if it has passed. Event loop only.
func (cs *connState) expired() timerKind {
	t := cs.timer
	if t == nil || t.kind == timerNone {
		return timerNone
	}
	if g := t.fired.Swap(0); g == 0 || g != t.gen {
		return timerNone
	}
	return t.kind
}

// drain stops serving c and closes it once the client has closed or drainTime passed. The
// session it carried, if any, ends now. Event loop only.
func (l *Listener) drain(c gnet.Conn, cs *connState, reason CloseReason) gnet.Action {
	if cs.draining {
		return gnet.None
	}
	cs.draining = true
	l.releaseSession(c, cs, reason)
	l.startReading(c, cs)
	_, _ = c.Discard(-1)
	l.arm(c, cs, timerDrain, drainTime)
	return gnet.None
}

// releaseSession detaches c from the session it carries, telling the session its transport
// is gone. Event loop only.
func (l *Listener) releaseSession(c gnet.Conn, cs *connState, reason CloseReason) {
	s := cs.sess
	if s == nil {
		return
	}
	cs.sess = nil
	switch {
	case cs.kind == kindWebSocket && cs.probe:
		s.probeGone(c)
	case cs.kind == kindWebSocket:
		s.transportClosed(reason)
	default:
		s.pollConnClosed(c)
	}
}

// OnOpen implements gnet.EventHandler.
func (l *Listener) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	cs := &connState{}
	c.SetContext(cs)
	l.arm(c, cs, timerHead, l.cfg.HeaderTimeout)
	return nil, gnet.None
}

// OnTraffic implements gnet.EventHandler.
func (l *Listener) OnTraffic(c gnet.Conn) gnet.Action {
	cs := c.Context().(*connState)
	if cs.draining {
		_, _ = c.Discard(-1)
		return gnet.None
	}
	if k := cs.expired(); k != timerNone {
		return l.onExpired(c, cs, k)
	}
	if cs.stalled && !l.unstall(c, cs) {
		return gnet.None
	}
	if cs.kind == kindWebSocket {
		return l.wsTraffic(c, cs)
	}
	return l.httpTraffic(c, cs)
}

// onExpired acts on a connection deadline that passed. Event loop only.
func (l *Listener) onExpired(c gnet.Conn, cs *connState, k timerKind) gnet.Action {
	switch k {
	case timerStall:
		if !l.unstall(c, cs) {
			return gnet.None
		}
		if cs.kind == kindWebSocket {
			return l.wsTraffic(c, cs)
		}
		return l.httpTraffic(c, cs)
	case timerIdle:
		l.stats.TimedOut.Add(1)
		return gnet.Close
	default: // head or body: the reference's 408
		l.stats.TimedOut.Add(1)
		writeSimple(c, 408, "", nil, false, nil)
		return l.drain(c, cs, ReasonTransportError)
	}
}

// overLimit checks c's unsent output after a write of an answer to the client's own input:
// past WriteSoftLimit the connection is no longer read until the client reads (so a client
// that sends but never reads cannot grow the server's memory), past WriteHardLimit it is
// closed. It reports whether the caller must stop serving input. Event loop only.
func (l *Listener) overLimit(c gnet.Conn, cs *connState) (stop bool, action gnet.Action) {
	n := c.OutboundBuffered()
	if n <= l.cfg.WriteSoftLimit {
		return false, gnet.None
	}
	if n > l.cfg.WriteHardLimit {
		l.stats.StalledClosed.Add(1)
		return true, gnet.Close
	}
	if !cs.stalled {
		cs.stalled = true
		l.stopReading(c, cs)
		l.arm(c, cs, timerStall, stallCheck)
		cs.timer.since = time.Now().UnixNano()
	}
	return true, gnet.None
}

// unstall reports whether a stalled connection may be served again: its output went back
// under half the soft limit. Otherwise it stays unread, and is closed once it has been
// stalled for StallTimeout. Event loop only.
func (l *Listener) unstall(c gnet.Conn, cs *connState) bool {
	if c.OutboundBuffered() <= l.cfg.WriteSoftLimit/2 {
		cs.stalled = false
		l.disarm(cs, cs.kind != kindWebSocket)
		return true
	}
	if time.Since(time.Unix(0, cs.timer.since)) >= l.cfg.StallTimeout {
		l.stats.StalledClosed.Add(1)
		_ = c.Close()
		return false
	}
	since := cs.timer.since
	cs.timer.kind = timerNone // re-arm for the next check
	l.arm(c, cs, timerStall, stallCheck)
	cs.timer.since = since
	l.stopReading(c, cs) // gnet polls for input again when its output drains
	return false
}

// OnClose implements gnet.EventHandler.
func (l *Listener) OnClose(c gnet.Conn, err error) gnet.Action {
	cs, _ := c.Context().(*connState)
	if cs == nil {
		return gnet.None
	}
	l.disarm(cs, false)
	if cs.frag != nil {
		bytebufferpool.Put(cs.frag)
		cs.frag = nil
	}
	reason := ReasonTransportClose
	if err != nil || cs.kind == kindHTTP {
		reason = ReasonTransportError
	}
	l.releaseSession(c, cs, reason)
	return gnet.None
}

// Read control. gnet v2.9.7 has no call to stop reading a connection (gnet#764 asks for
// backpressure); it reads every readable descriptor into the connection's buffer, which
// grows without bound when the handler leaves the bytes there. Connections that must not be
// read (a parked GET, a paused session, a client that does not read its answers) are taken
// out of the event loop's epoll interest set for input, so the kernel's receive buffer fills
// and TCP pushes back on the client. gnet puts input back in the set by itself when it
// finishes writing a connection's buffered output; the next turn of the loop then takes it
// out again if it must stay off.

// pollerFD returns the epoll descriptor of loop, or -1. gnet keeps it in
// eventloop.poller.fd; the engine's tests check that it is found, so a gnet upgrade that
// moves it fails there and not silently in production.
func (l *Listener) pollerFD(loop gnet.EventLoop) int {
	if v, ok := l.epfds.Load(loop); ok {
		return v.(int)
	}
	fd := -1
	if v := reflect.ValueOf(loop); v.Kind() == reflect.Pointer && !v.IsNil() {
		if p := v.Elem().FieldByName("poller"); p.IsValid() && p.Kind() == reflect.Pointer && !p.IsNil() {
			if f := p.Elem().FieldByName("fd"); f.IsValid() && f.Kind() == reflect.Int {
				fd = int(f.Int())
			}
		}
	}
	l.epfds.Store(loop, fd)
	return fd
}

// stopReading takes c's input out of its loop's epoll set (peer hang-ups are still seen).
// Event loop only.
func (l *Listener) stopReading(c gnet.Conn, cs *connState) {
	if !cs.readOff {
		l.stats.ReadStopped.Add(1)
	}
	l.setInterest(c, unix.EPOLLRDHUP)
	cs.readOff = true
}

// startReading puts c's input back in its loop's epoll set. Event loop only.
func (l *Listener) startReading(c gnet.Conn, cs *connState) {
	if !cs.readOff {
		return
	}
	cs.readOff = false
	l.setInterest(c, unix.EPOLLIN|unix.EPOLLPRI)
}

func (l *Listener) setInterest(c gnet.Conn, ev uint32) {
	epfd := l.pollerFD(c.EventLoop())
	if epfd < 0 {
		return
	}
	if c.OutboundBuffered() > 0 {
		ev |= unix.EPOLLOUT
	}
	fd := c.Fd()
	_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)})
}
