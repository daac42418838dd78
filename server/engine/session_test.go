package engine

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/riptide-io/riptide/codec/eio"
)

// The session's transitions, driven directly with fake connections: every interleaving
// below is a sequence of calls, with no network and no sleeps except where the heartbeat
// itself is what is tested.

// fakeConn stands for a connection: it records the wakes the session asks for.
type fakeConn struct{ wakes atomic.Int32 }

func (f *fakeConn) Wake(gnet.AsyncCallback) error { f.wakes.Add(1); return nil }
func (f *fakeConn) EventLoop() gnet.EventLoop     { return nil }

// recorder is a Handler that records messages and closes.
type recorder struct {
	mu     sync.Mutex
	msgs   []string
	closes chan CloseReason
	onMsg  func(s *Session, data []byte)
}

func (r *recorder) OnOpen(*Session) {}
func (r *recorder) OnMessage(s *Session, data []byte, _ bool) {
	r.mu.Lock()
	r.msgs = append(r.msgs, string(data))
	r.mu.Unlock()
	if r.onMsg != nil {
		r.onMsg(s, data)
	}
}
func (r *recorder) OnClose(_ *Session, reason CloseReason) { r.closes <- reason }

func (r *recorder) waitClose(t *testing.T, within time.Duration) CloseReason {
	t.Helper()
	select {
	case reason := <-r.closes:
		return reason
	case <-time.After(within):
		t.Fatalf("session not closed within %v", within)
		return 0
	}
}

func (r *recorder) closedNow(t *testing.T) CloseReason {
	t.Helper()
	return r.waitClose(t, time.Second)
}

// newTestSession opens a session on a started server with the given options.
func newTestSession(t *testing.T, opts Options, tr Transport) (*Session, *recorder) {
	t.Helper()
	r := &recorder{closes: make(chan CloseReason, 4)}
	srv := NewServer(opts, r)
	srv.start()
	t.Cleanup(srv.stop)
	s := newSession(srv, &Request{}, tr)
	srv.open(s)
	return s, r
}

func pollGet(t *testing.T, s *Session, c netConn) (string, pollAction) {
	t.Helper()
	b, act := s.pollGet(c, nil)
	return string(b), act
}

func pollRelease(t *testing.T, s *Session, c netConn) (string, pollAction) {
	t.Helper()
	b, act := s.pollRelease(c, nil)
	return string(b), act
}

func TestPollParkThenRelease(t *testing.T) {
	s, _ := newTestSession(t, Options{}, Polling)
	a := &fakeConn{}
	if body, act := pollGet(t, s, a); act != pollPark || body != "" {
		t.Fatalf("empty session: %q %v, want park", body, act)
	}
	if body, act := pollRelease(t, s, a); act != pollPark {
		t.Fatalf("spurious wake answered %q", body)
	}
	if err := s.Send([]byte("hello"), false); err != nil {
		t.Fatal(err)
	}
	if a.wakes.Load() == 0 {
		t.Fatal("a send to a parked GET did not wake its connection")
	}
	if body, act := pollRelease(t, s, a); act != pollAnswer || body != "4hello" {
		t.Fatalf("release: %q %v", body, act)
	}
	if body, act := pollRelease(t, s, a); act != pollGone {
		t.Fatalf("released GET answered again: %q %v", body, act)
	}
}

func TestPollQueuedAnsweredAtOnce(t *testing.T) {
	s, _ := newTestSession(t, Options{}, Polling)
	_ = s.Send([]byte("a"), false)
	_ = s.Send([]byte("b"), true)
	body, act := pollGet(t, s, &fakeConn{})
	if act != pollAnswer || body != "4a\x1ebYg==" {
		t.Fatalf("got %q %v", body, act)
	}
}

func TestPollOverlappingGETs(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	a, b := &fakeConn{}, &fakeConn{}
	if _, act := pollGet(t, s, a); act != pollPark {
		t.Fatal("first GET not parked")
	}
	if _, act := pollGet(t, s, b); act != pollOverlap {
		t.Fatalf("second GET: %v, want overlap", act)
	}
	if reason := r.closedNow(t); reason != ReasonTransportError {
		t.Fatalf("closed with %v", reason)
	}
	if a.wakes.Load() == 0 {
		t.Fatal("the parked GET was not woken to get its close packet")
	}
	if body, act := pollRelease(t, s, a); act != pollAnswer || body != "1" {
		t.Fatalf("parked GET after overlap: %q %v, want close packet", body, act)
	}
}

func TestPollCloseDuringParkedGET(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	a := &fakeConn{}
	pollGet(t, s, a)
	s.Close()
	if a.wakes.Load() == 0 {
		t.Fatal("Close did not wake the parked GET")
	}
	if body, act := pollRelease(t, s, a); act != pollAnswer || body != "1" {
		t.Fatalf("got %q %v, want close packet", body, act)
	}
	if reason := r.closedNow(t); reason != ReasonForcedClose {
		t.Fatalf("closed with %v", reason)
	}
}

func TestPollCloseFlushesQueuedFirst(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	a := &fakeConn{}
	pollGet(t, s, a)
	_ = s.Send([]byte("last"), false)
	s.Close()
	if body, act := pollRelease(t, s, a); act != pollAnswer || body != "4last" {
		t.Fatalf("got %q %v, want the queued packet before the close", body, act)
	}
	select {
	case reason := <-r.closes:
		t.Fatalf("closed (%v) before the close packet was delivered", reason)
	default:
	}
	if body, act := pollGet(t, s, &fakeConn{}); act != pollAnswer || body != "6\x1e1" {
		t.Fatalf("next GET: %q %v, want noop+close", body, act)
	}
	if reason := r.closedNow(t); reason != ReasonForcedClose {
		t.Fatalf("closed with %v", reason)
	}
}

func TestPollServerShutdownReason(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	a := &fakeConn{}
	pollGet(t, s, a)
	s.srv.CloseAll()
	pollRelease(t, s, a)
	if reason := r.closedNow(t); reason != ReasonServerShutdown || reason.String() != "server shutdown" {
		t.Fatalf("closed with %v", reason)
	}
}

func TestPollClientCloseReleasesWithNoop(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	a := &fakeConn{}
	pollGet(t, s, a)
	if s.pollPost(&fakeConn{}, []eio.Packet{{Type: eio.Close}}) {
		t.Fatal("a close packet held its POST")
	}
	if reason := r.closedNow(t); reason != ReasonTransportClose {
		t.Fatalf("closed with %v", reason)
	}
	if body, _ := pollRelease(t, s, a); body != "6" {
		t.Fatalf("parked GET got %q, want noop", body)
	}
}

func TestUpgradeMidStream(t *testing.T) {
	s, _ := newTestSession(t, Options{}, Polling)
	get, probe := &fakeConn{}, &fakeConn{}
	pollGet(t, s, get)
	if !s.probeOpen(probe) {
		t.Fatal("probe refused")
	}
	if s.probeOpen(&fakeConn{}) {
		t.Fatal("a second probe was accepted")
	}
	_ = s.Send([]byte("before-probe"), false)
	if body, _ := pollRelease(t, s, get); body != "4before-probe" {
		t.Fatalf("before the probe packets leave on polling: %q", body)
	}
	pollGet(t, s, get)
	frames, keep, up := s.probePacket(probe, eio.Packet{Type: eio.Ping, Data: []byte("probe")}, nil)
	if !keep || up || !strings.Contains(string(frames), "3probe") {
		t.Fatalf("2probe: %q keep=%v upgraded=%v", frames, keep, up)
	}
	if body, act := pollRelease(t, s, get); act != pollAnswer || body != "6" {
		t.Fatalf("the parked GET after 3probe: %q %v, want noop", body, act)
	}
	_ = s.Send([]byte("held"), false)
	if s.Writable() {
		t.Fatal("writable while packets are held for the upgrade")
	}
	if body, act := pollGet(t, s, get); act != pollAnswer || body != "6" {
		t.Fatalf("GET during a probed upgrade: %q %v, want noop", body, act)
	}
	frames, keep, up = s.probePacket(probe, eio.Packet{Type: eio.Upgrade}, nil)
	if !keep || !up || !strings.Contains(string(frames), "4held") {
		t.Fatalf("upgrade: %q keep=%v upgraded=%v, want the held packet", frames, keep, up)
	}
	if s.Transport() != WebSocket {
		t.Fatal("not on WebSocket after the upgrade packet")
	}
	if _, act := pollGet(t, s, &fakeConn{}); act != pollWrongTransport {
		t.Fatalf("GET after upgrade: %v", act)
	}
	_ = s.Send([]byte("after"), false)
	if probe.wakes.Load() == 0 {
		t.Fatal("a send after the upgrade did not wake the WebSocket")
	}
}

func TestUpgradeProbeGoneKeepsPolling(t *testing.T) {
	s, _ := newTestSession(t, Options{}, Polling)
	get, probe := &fakeConn{}, &fakeConn{}
	s.probeOpen(probe)
	s.probePacket(probe, eio.Packet{Type: eio.Ping, Data: []byte("probe")}, nil)
	_ = s.Send([]byte("held"), false)
	s.probeGone(probe)
	if body, act := pollGet(t, s, get); act != pollAnswer || body != "4held" {
		t.Fatalf("held packets after the probe died: %q %v", body, act)
	}
	if !s.probeOpen(&fakeConn{}) {
		t.Fatal("a new probe refused after the first one died")
	}
}

func TestUpgradeBadProbePacket(t *testing.T) {
	s, _ := newTestSession(t, Options{}, Polling)
	probe := &fakeConn{}
	s.probeOpen(probe)
	if _, keep, _ := s.probePacket(probe, eio.Packet{Type: eio.Message, Data: []byte("x")}, nil); keep {
		t.Fatal("a message on the probe kept it")
	}
	if s.isProbe(probe) {
		t.Fatal("still the probe")
	}
}

func TestPingTimeoutDuringUpgrade(t *testing.T) {
	s, r := newTestSession(t, Options{PingInterval: 30 * time.Millisecond, PingTimeout: 30 * time.Millisecond}, Polling)
	probe := &fakeConn{}
	s.probeOpen(probe)
	s.probePacket(probe, eio.Packet{Type: eio.Ping, Data: []byte("probe")}, nil)
	if reason := r.waitClose(t, 2*time.Second); reason != ReasonPingTimeout {
		t.Fatalf("closed with %v", reason)
	}
	if probe.wakes.Load() == 0 {
		t.Fatal("the probe was not woken to close")
	}
	if s.isProbe(probe) {
		t.Fatal("still probing after the session ended")
	}
}

func TestClosedPollingSessionExpiresAtPongDeadline(t *testing.T) {
	// Closed by the server (Socket.IO's connect timeout) while no GET is parked: the close
	// waits up to CloseTimeout for a GET, but the heartbeat keeps its own deadline, so a
	// client that never polls is gone at pingInterval + pingTimeout, as with the reference.
	s, r := newTestSession(t, Options{PingInterval: 40 * time.Millisecond, PingTimeout: 40 * time.Millisecond, CloseTimeout: time.Minute}, Polling)
	s.Close()
	if reason := r.waitClose(t, 5*time.Second); reason != ReasonPingTimeout {
		t.Fatalf("closed with %v", reason)
	}
	if s.srv.Count() != 0 {
		t.Fatal("session still registered")
	}
}

func TestClosedPollingSessionCloseTimeout(t *testing.T) {
	s, r := newTestSession(t, Options{PingInterval: time.Minute, PingTimeout: time.Minute, CloseTimeout: 30 * time.Millisecond}, Polling)
	s.Close()
	if reason := r.waitClose(t, 5*time.Second); reason != ReasonForcedClose {
		t.Fatalf("closed with %v", reason)
	}
}

// Shutdown (a drain) answers a parked GET with the close packet, after what was queued,
// and the session ends with ReasonServerShutdown: socket.io-client then reports "transport
// close" and reconnects.
func TestShutdownPollingParkedGET(t *testing.T) {
	s, r := newTestSession(t, Options{PingInterval: time.Minute, PingTimeout: time.Minute}, Polling)
	get := &fakeConn{}
	if _, act := pollGet(t, s, get); act != pollPark {
		t.Fatalf("GET: %v", act)
	}
	if err := s.Send([]byte("last"), false); err != nil {
		t.Fatal(err)
	}
	if body, act := pollRelease(t, s, get); body != "4last" || act != pollAnswer {
		t.Fatalf("queued packet: %q %v", body, act)
	}
	get2 := &fakeConn{}
	if _, act := pollGet(t, s, get2); act != pollPark {
		t.Fatalf("second GET: %v", act)
	}
	s.Shutdown()
	if get2.wakes.Load() == 0 {
		t.Fatal("the parked GET was not woken")
	}
	if body, act := pollRelease(t, s, get2); body != "1" || act != pollAnswer {
		t.Fatalf("parked GET after Shutdown: %q %v, want the close packet", body, act)
	}
	if reason := r.closedNow(t); reason != ReasonServerShutdown {
		t.Fatalf("closed with %v", reason)
	}
}

// A polling session shut down between two polls waits for the next GET at most
// shutdownPollWait, not CloseTimeout: a drain must not wait half a minute for each client
// that vanished between two polls.
func TestShutdownPollingWithoutGETIsBounded(t *testing.T) {
	s, r := newTestSession(t, Options{PingInterval: time.Hour, PingTimeout: time.Hour, CloseTimeout: time.Hour}, Polling)
	s.Shutdown()
	if reason := r.waitClose(t, shutdownPollWait+5*time.Second); reason != ReasonServerShutdown {
		t.Fatalf("closed with %v", reason)
	}
}

func TestHardLimitPolling(t *testing.T) {
	s, r := newTestSession(t, Options{WriteHardLimit: 1000}, Polling)
	if err := s.Send(make([]byte, 600), false); err != nil {
		t.Fatal(err)
	}
	// A broadcast to a polling session takes the same path as Send.
	if err := s.SendPrepared(Prepare(make([]byte, 600), nil), false); err != ErrClosed {
		t.Fatalf("over the hard limit: %v, want ErrClosed", err)
	}
	if reason := r.closedNow(t); reason != ReasonTransportError {
		t.Fatalf("closed with %v", reason)
	}
	if n := s.srv.Stats().SlowClosed.Load(); n != 1 {
		t.Fatalf("SlowClosed = %d", n)
	}
}

func TestHardLimitWebSocket(t *testing.T) {
	s, r := newTestSession(t, Options{WriteHardLimit: 1000}, WebSocket)
	s.conn = &fakeConn{}
	_ = s.Send(make([]byte, 100), false)
	s.written(900) // the connection still holds 900 unsent bytes
	if err := s.Send(make([]byte, 100), false); err != ErrClosed {
		t.Fatalf("queued+backlog over the hard limit: %v, want ErrClosed", err)
	}
	if reason := r.closedNow(t); reason != ReasonTransportError {
		t.Fatalf("closed with %v", reason)
	}
}

func TestHardLimitBacklogAlone(t *testing.T) {
	s, r := newTestSession(t, Options{WriteHardLimit: 1000}, WebSocket)
	s.conn = &fakeConn{}
	s.written(1001)
	if reason := r.closedNow(t); reason != ReasonTransportError {
		t.Fatalf("closed with %v", reason)
	}
}

func TestVolatileDroppedWithoutGET(t *testing.T) {
	s, _ := newTestSession(t, Options{}, Polling)
	if err := s.SendMessages([]byte("v"), nil, true); err != ErrDropped {
		t.Fatalf("volatile with no GET: %v", err)
	}
	a := &fakeConn{}
	pollGet(t, s, a)
	if err := s.SendMessages([]byte("v"), nil, true); err != nil {
		t.Fatalf("volatile with a parked GET: %v", err)
	}
	if n := s.srv.Stats().VolatileDropped.Load(); n != 1 {
		t.Fatalf("VolatileDropped = %d", n)
	}
}

func TestVolatileDroppedOverSoftLimitWebSocket(t *testing.T) {
	s, _ := newTestSession(t, Options{WriteSoftLimit: 100}, WebSocket)
	s.conn = &fakeConn{}
	s.written(101)
	if err := s.SendMessages([]byte("v"), nil, true); err != ErrDropped {
		t.Fatalf("volatile over the soft limit: %v", err)
	}
	if err := s.Send([]byte("kept"), false); err != nil {
		t.Fatalf("non-volatile under the hard limit: %v", err)
	}
}

func TestPauseHoldsPOST(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	r.onMsg = func(s *Session, data []byte) {
		if string(data) == "stop" {
			s.Pause()
		}
	}
	post := &fakeConn{}
	if s.pollPost(post, []eio.Packet{{Type: eio.Message, Data: []byte("a")}}) {
		t.Fatal("held without a pause")
	}
	if !s.pollPost(post, []eio.Packet{{Type: eio.Message, Data: []byte("stop")}}) {
		t.Fatal("a POST whose message paused the session was answered")
	}
	if s.postResume(post) {
		t.Fatal("released while paused")
	}
	s.Resume()
	if post.wakes.Load() == 0 {
		t.Fatal("Resume did not wake the held POST")
	}
	if !s.postResume(post) {
		t.Fatal("not released after Resume")
	}
}

func TestPauseHeldPOSTReleasedOnClose(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	r.onMsg = func(s *Session, _ []byte) { s.Pause() }
	post := &fakeConn{}
	s.pollPost(post, []eio.Packet{{Type: eio.Message, Data: []byte("x")}})
	s.terminate(ReasonForcedClose)
	if post.wakes.Load() == 0 || !s.postResume(post) {
		t.Fatal("a held POST was not released when its session ended")
	}
}

func TestResumeWakesWebSocket(t *testing.T) {
	s, _ := newTestSession(t, Options{}, WebSocket)
	c := &fakeConn{}
	s.conn = c
	if !s.wsTurn() {
		t.Fatal("an open WebSocket is not read")
	}
	s.Pause()
	s.wsEndTurn()
	if s.wsTurn() {
		t.Fatal("a paused WebSocket is read")
	}
	s.wsEndTurn()
	before := c.wakes.Load()
	s.Resume()
	if c.wakes.Load() == before {
		t.Fatal("Resume did not wake the WebSocket")
	}
	if !s.wsTurn() {
		t.Fatal("not read after Resume")
	}
}

func TestWebSocketSendDuringTurnNeedsNoWake(t *testing.T) {
	s, _ := newTestSession(t, Options{}, WebSocket)
	c := &fakeConn{}
	s.conn = c
	s.wsTurn()
	_ = s.Send([]byte("x"), false)
	if c.wakes.Load() != 0 {
		t.Fatal("a send during the loop's turn woke the loop")
	}
	out, _, closeConn := s.wsEndTurn()
	if out == nil || !strings.Contains(string(out.B), "4x") || closeConn {
		t.Fatalf("end of turn: %v closeConn=%v", out, closeConn)
	}
	_ = s.Send([]byte("y"), false)
	if c.wakes.Load() != 1 {
		t.Fatalf("a send outside the turn woke %d times", c.wakes.Load())
	}
	_ = s.Send([]byte("z"), false)
	if c.wakes.Load() != 1 {
		t.Fatal("a second send queued a second wake")
	}
}

func TestWebSocketCloseFlushesThenCloses(t *testing.T) {
	s, r := newTestSession(t, Options{}, WebSocket)
	s.conn = &fakeConn{}
	_ = s.Send([]byte("bye"), false)
	s.Close()
	if s.wsTurn() {
		t.Fatal("a closing session is read")
	}
	out, _, closeConn := s.wsEndTurn()
	if out == nil || !strings.Contains(string(out.B), "4bye") || !closeConn {
		t.Fatal("closing: queued packets not handed over, or no close")
	}
	s.transportClosed(ReasonTransportClose)
	if reason := r.closedNow(t); reason != ReasonForcedClose {
		t.Fatalf("closed with %v", reason)
	}
}

func TestPauseMidPOSTHoldsTheRest(t *testing.T) {
	s, r := newTestSession(t, Options{}, Polling)
	r.onMsg = func(s *Session, data []byte) {
		if string(data) == "stop" || string(data) == "again" {
			s.Pause()
		}
	}
	post := &fakeConn{}
	msgs := func() []string {
		r.mu.Lock()
		defer r.mu.Unlock()
		return append([]string(nil), r.msgs...)
	}
	pkts := []eio.Packet{
		{Type: eio.Message, Data: []byte("a")}, {Type: eio.Message, Data: []byte("stop")},
		{Type: eio.Message, Data: []byte("b")}, {Type: eio.Message, Data: []byte("again")},
		{Type: eio.Message, Data: []byte("c")},
	}
	if !s.pollPost(post, pkts) {
		t.Fatal("not held")
	}
	if got := strings.Join(msgs(), ","); got != "a,stop" {
		t.Fatalf("delivered while paused: %s", got)
	}
	s.Resume()
	if s.postResume(post) {
		t.Fatal("answered while paused again")
	}
	if got := strings.Join(msgs(), ","); got != "a,stop,b,again" {
		t.Fatalf("after the first Resume: %s", got)
	}
	s.Resume()
	if !s.postResume(post) {
		t.Fatal("not answered once everything was delivered")
	}
	if got := strings.Join(msgs(), ","); got != "a,stop,b,again,c" {
		t.Fatalf("after the second Resume: %s", got)
	}
}
