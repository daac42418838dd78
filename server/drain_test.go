package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// fakeClock drives a drain's delay and waves: time moves only when the test advances it,
// and each After tells the test that the drain is waiting for its next step.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	asked   chan time.Duration // one per After
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0), asked: make(chan time.Duration, 64)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	if d <= 0 {
		ch <- f.now
	} else {
		f.waiters = append(f.waiters, fakeWaiter{f.now.Add(d), ch})
	}
	f.mu.Unlock()
	f.asked <- d
	return ch
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
		} else {
			w.ch <- f.now
		}
	}
	f.waiters = kept
}

// waitAsked waits until the drain asks for a timer, and returns its duration.
func (f *fakeClock) waitAsked(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-f.asked:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the drain asked for no timer")
		return 0
	}
}

type drainResult struct {
	st  DrainStats
	err error
}

func startDrain(ctx context.Context, io *Server, o DrainOptions) <-chan drainResult {
	out := make(chan drainResult, 1)
	go func() {
		st, err := io.Drain(ctx, o)
		out <- drainResult{st, err}
	}()
	return out
}

func waitDrain(t *testing.T, done <-chan drainResult) drainResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Drain did not return")
		return drainResult{}
	}
}

// pollingHandshake asks for a new polling session and returns the status and body.
func pollingHandshake(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// untilTransportClose reads w's frames until the server closes the connection and returns
// the text messages seen on the way; a DISCONNECT among them fails the test.
func untilTransportClose(t *testing.T, w *wire) []string {
	t.Helper()
	var msgs []string
	for {
		op, p, err := w.frame()
		if err != nil {
			t.Fatalf("connection ended without a close frame: %v (after %q)", err, msgs)
		}
		if op == ws.OpClose {
			return msgs
		}
		if op == ws.OpText && string(p) != "2" {
			if strings.HasPrefix(string(p), "41") {
				t.Fatalf("the server sent DISCONNECT %q: the client would not reconnect", p)
			}
			msgs = append(msgs, string(p))
		}
	}
}

// During Delay handshakes are accepted and Draining is true; after it they get 503
// SERVER_DRAINING, and every connection (those of the delay included) is closed at the
// transport level: a close frame on WebSocket, a close packet for a parked poll, never a
// DISCONNECT, and disconnect handlers see "server shutting down".
func TestDrainAcceptsDuringDelayThenRefuses(t *testing.T) {
	srv := New(Options{})
	reasons := make(chan DisconnectReason, 8)
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r DisconnectReason) { reasons <- r }) })
	addr := startIO(t, srv)
	before := dialWire(t, addr)
	before.connect("/", "")

	clk := newFakeClock()
	done := startDrain(context.Background(), srv, DrainOptions{Delay: 5 * time.Second, clock: clk})
	if d := clk.waitAsked(t); d != 5*time.Second {
		t.Fatalf("the delay timer is %v", d)
	}
	if !srv.Draining() {
		t.Fatal("not Draining during the delay")
	}
	clk.advance(5*time.Second - time.Nanosecond)
	during := dialWire(t, addr) // accepted: still in the delay
	during.connect("/", "")
	sid := pollSession(t, addr)
	parked := make(chan string, 1)
	go func() { parked <- pollGet(t, addr, sid) }()
	waitFor(t, "the poll to park", func() bool { return srv.Engine().Session(sid).Writable() })

	clk.advance(time.Nanosecond)
	r := waitDrain(t, done)
	if r.err != nil || r.st != (DrainStats{Sessions: 3}) {
		t.Fatalf("Drain: %+v %v", r.st, r.err)
	}
	if code, body := pollingHandshake(t, addr); code != 503 || body != `{"code":"SERVER_DRAINING","message":"the server is shutting down: connect to another node"}` {
		t.Fatalf("handshake after the delay: %d %s", code, body)
	}
	untilTransportClose(t, before)
	untilTransportClose(t, during)
	if got := <-parked; got != "1" {
		t.Fatalf("the parked poll got %q, want the close packet", got)
	}
	for i := 0; i < 3; i++ {
		if r := <-reasons; r != ReasonServerShutdown {
			t.Fatalf("disconnect reason %q", r)
		}
	}
	if _, err := srv.Drain(context.Background(), DrainOptions{}); !errors.Is(err, ErrDraining) {
		t.Fatalf("second Drain: %v", err)
	}
}

// pollSession opens a polling session joined to "/" and returns its sid.
func pollSession(t *testing.T, addr string) string {
	t.Helper()
	code, open := pollingHandshake(t, addr)
	var h struct{ Sid string }
	if code != 200 || !strings.HasPrefix(open, "0") || jsonUnmarshal(open[1:], &h) != nil {
		t.Fatalf("polling handshake: %d %q", code, open)
	}
	resp, err := http.Post("http://"+addr+"/socket.io/?EIO=4&transport=polling&sid="+h.Sid, "text/plain", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := pollGet(t, addr, h.Sid); !strings.HasPrefix(got, "40{") {
		t.Fatalf("CONNECT reply %q", got)
	}
	return h.Sid
}

func pollGet(t *testing.T, addr, sid string) string {
	resp, err := http.Get("http://" + addr + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The waves close exactly the plan's quota, one wave per timer: at 15 per second in 100 ms
// waves, ten connections go 1, 2, 1, 2, 1, 2, 1 at a time.
func TestDrainWavesRespectTheRate(t *testing.T) {
	srv := New(Options{})
	addr := startIO(t, srv)
	const n = 10
	for i := 0; i < n; i++ {
		dialWire(t, addr).connect("/", "")
	}
	waitFor(t, "the clients", func() bool { return srv.live.Load() == n })
	clk := newFakeClock()
	done := startDrain(context.Background(), srv, DrainOptions{Rate: 15, clock: clk})
	plan := newWavePlan(15)
	var closedPerWave []int
	for k := 0; ; k++ {
		want := min(plan.quota(k), n)
		if want == n {
			break // the last wave: no further timer
		}
		if d := clk.waitAsked(t); d != 100*time.Millisecond {
			t.Fatalf("wave %d: the next wave is asked %v later", k, d)
		}
		// The drain waits for the next wave's timer, so no further connection can close.
		waitFor(t, "the wave's closes", func() bool { return int(srv.live.Load()) <= n-want })
		if left := int(srv.live.Load()); left != n-want {
			t.Fatalf("wave %d: %d connections left, want %d", k, left, n-want)
		}
		closedPerWave = append(closedPerWave, want)
		clk.advance(100 * time.Millisecond)
	}
	if r := waitDrain(t, done); r.err != nil || r.st != (DrainStats{Sessions: n}) {
		t.Fatalf("Drain: %+v %v", r.st, r.err)
	}
	if got := srv.Engine().Count(); got != 0 {
		t.Fatalf("%d sessions left", got)
	}
	if want := []int{1, 3, 4, 6, 7, 9}; !equalInts(closedPerWave, want) {
		t.Fatalf("closed after each wave %v, want %v", closedPerWave, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWavePlanQuota(t *testing.T) {
	for _, c := range []struct {
		rate  float64
		every time.Duration
		want  []int // quota of waves 0, 1, 2, ...
	}{
		{1000, 100 * time.Millisecond, []int{100, 200, 300, 400}},
		{15, 100 * time.Millisecond, []int{1, 3, 4, 6, 7, 9, 10, 12, 13, 15}},
		{33, 100 * time.Millisecond, []int{3, 6, 9, 13, 16, 19, 23, 26, 29, 33}},
		{10, 100 * time.Millisecond, []int{1, 2, 3}},
		{4, 250 * time.Millisecond, []int{1, 2, 3, 4}},
		{0.5, 2 * time.Second, []int{1, 2}},
	} {
		p := newWavePlan(c.rate)
		if p.every != c.every {
			t.Errorf("rate %v: waves every %v, want %v", c.rate, p.every, c.every)
		}
		for k, want := range c.want {
			if got := p.quota(k); got != want {
				t.Errorf("rate %v: quota(%d) = %d, want %d", c.rate, k, got, want)
			}
		}
	}
	if q := newWavePlan(0).quota(0); q < 1<<40 {
		t.Errorf("rate 0: first wave closes %d, want everything", q)
	}
}

// A draining connection stays open while its handlers run: the event being handled and the
// one queued behind it are answered, their acks leave, and only then does the transport
// close.
func TestDrainWaitsForHandlerWork(t *testing.T) {
	srv := New(Options{})
	started, release := make(chan struct{}), make(chan struct{})
	srv.On("slow", func(_ *Socket, ev *Event) {
		close(started)
		<-release
		_ = ev.Ack("slow done")
	})
	srv.On("quick", func(_ *Socket, ev *Event) { _ = ev.Ack("quick done") })
	addr := startIO(t, srv)
	w := dialWire(t, addr)
	w.connect("/", "")
	w.send(`421["slow"]`)
	<-started
	w.send(`422["quick"]`)
	c := srv.clients()[0]
	waitFor(t, "the quick event to queue", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.queued == 2
	})

	done := startDrain(context.Background(), srv, DrainOptions{clock: newFakeClock()})
	waitFor(t, "the drain to reach the connection", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.draining
	})
	if n := srv.Engine().Count(); n != 1 {
		t.Fatalf("the connection closed with handler work queued (%d sessions)", n)
	}
	close(release)
	msgs := untilTransportClose(t, w)
	if want := []string{`431["slow done"]`, `432["quick done"]`}; strings.Join(msgs, " ") != strings.Join(want, " ") {
		t.Fatalf("before the close the client got %q, want %q", msgs, want)
	}
	if r := waitDrain(t, done); r.err != nil || r.st != (DrainStats{Sessions: 1}) {
		t.Fatalf("Drain: %+v %v", r.st, r.err)
	}
}

// When the drain's context ends, connections whose handlers still run are closed at once.
func TestDrainContextEndForcesTheRest(t *testing.T) {
	srv := New(Options{})
	started, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv.On("stuck", func(*Socket, *Event) { close(started); <-release })
	addr := startIO(t, srv)
	w := dialWire(t, addr)
	w.connect("/", "")
	idle := dialWire(t, addr)
	idle.connect("/", "")
	w.send(`42["stuck"]`)
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	done := startDrain(ctx, srv, DrainOptions{clock: newFakeClock()})
	untilTransportClose(t, idle) // the idle one goes in the first wave
	waitFor(t, "the idle session to end", func() bool { return srv.live.Load() == 1 })
	cancel()
	r := waitDrain(t, done)
	if !errors.Is(r.err, context.Canceled) || r.st != (DrainStats{Sessions: 2, Forced: 1}) {
		t.Fatalf("Drain: %+v %v", r.st, r.err)
	}
	untilTransportClose(t, w)
}
