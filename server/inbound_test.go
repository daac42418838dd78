package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server/engine"
)

// TestInboundBound: a socket.io-client floods a socket whose handler is stuck. The
// connection's queued handler work never exceeds MaxPendingEvents (the server stops reading
// it: the client's writes wait in its own buffers and the kernel's), and once the handler is
// released every event is handled, in order, and the client's last event is acked.
func TestInboundBound(t *testing.T) {
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) { testInboundBound(t, tr) })
	}
}

func testInboundBound(t *testing.T, transport string) {
	nodetest.Setup(t)
	const bound, n = 16, 2000
	io := New(Options{MaxPendingEvents: bound})
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []int
	io.On("e", func(_ *Socket, ev *Event) {
		<-gate
		var i int
		_ = ev.Decode(0, &i)
		mu.Lock()
		got = append(got, i)
		mu.Unlock()
	})
	io.On("done", func(_ *Socket, ev *Event) { _ = ev.Ack() })
	addr := startIO(t, io)
	res := make(chan error, 1)
	go func() {
		defer close(res)
		nodetest.Run(t, 90*time.Second, "sio-flood.js", "--url", "http://"+addr, "--n", strconv.Itoa(n), "--transports", transport)
	}()
	waitFor(t, "the input to be paused", func() bool { return io.Stats().InputPauses >= 1 })
	// On polling the engine stops delivering a POST's packets after the one that paused
	// the session and holds the rest, with the POST's answer, until Resume.
	limit := bound
	// While the handler is stuck, whatever the client keeps sending stays unread.
	maxQueued := 0
	for i := 0; i < 100; i++ {
		if q := queuedOf(io); q > maxQueued {
			maxQueued = q
		}
		time.Sleep(2 * time.Millisecond)
	}
	if maxQueued > limit {
		t.Fatalf("%d handler tasks queued for one connection, bound %d (limit %d)", maxQueued, bound, limit)
	}
	close(gate)
	<-res
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("handled %d events, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("event %d handled in place %d", v, i)
		}
	}
	t.Logf("%s: at most %d queued; %d pauses", transport, maxQueued, io.Stats().InputPauses)
}

// queuedOf returns the largest number of handler tasks queued by one connection.
func queuedOf(io *Server) int {
	m := 0
	io.Engine().Range(func(s *engine.Session) bool {
		if c, ok := s.Context().(*client); ok {
			c.mu.Lock()
			if int(c.queued) > m {
				m = int(c.queued)
			}
			c.mu.Unlock()
		}
		return true
	})
	return m
}

// A middleware's Join takes effect with the connection: an emit to the room right after the
// CONNECT reply reaches the socket, and a socket a later middleware refuses joins nothing.
func TestJoinInMiddleware(t *testing.T) {
	io := New(Options{})
	io.Use(func(s *Socket) error {
		s.Join("early")
		if len(s.Rooms()) != 0 {
			t.Errorf("rooms before the connection: %v", s.Rooms())
		}
		return nil
	})
	io.Use(func(s *Socket) error {
		if string(s.HandshakeAuth()) == `{"no":1}` {
			return &ConnectError{Message: "no"}
		}
		return nil
	})
	addr := startIO(t, io)
	refused := dialWire(t, addr)
	refused.send(`40{"no":1}`)
	if p := refused.next(); !strings.HasPrefix(p, "44") {
		t.Fatalf("refused: %q", p)
	}
	for i := 0; i < 20; i++ {
		w := dialWire(t, addr)
		w.connect("/", "")
		_ = io.To("early").Emit("hi", i)
		if p, want := w.next(), fmt.Sprintf(`42["hi",%d]`, i); p != want {
			t.Fatalf("got %q, want %q", p, want)
		}
	}
	if n := len(io.Of("/").Adapter().Sockets([]string{"early"})); n != 20 {
		t.Errorf("%d sockets in the room, want the 20 connected (the refused one joined nothing)", n)
	}
}
