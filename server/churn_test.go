package server_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// TestGoroutinesComeBackAfterChurn: waves of real clients connect, join a room and leave;
// once they are gone (and idle handler workers have timed out, which the short
// HandlerIdleTimeout makes quick), the server holds as many goroutines as before the
// first wave. The issue saw 18 before and 76, 83, 93 after three waves of 5,000.
func TestGoroutinesComeBackAfterChurn(t *testing.T) {
	t.Run("disconnect", func(t *testing.T) { testChurn(t, "--transports", "polling,websocket") })
	t.Run("dropped", func(t *testing.T) { testChurn(t, "--transports", "websocket", "--abrupt") })
}

func testChurn(t *testing.T, flags ...string) {
	if testing.Short() {
		t.Skip("runs 3 x 1000 socket.io-client connections")
	}
	nodetest.Setup(t)
	io := server.New(server.Options{HandlerIdleTimeout: 20 * time.Millisecond})
	io.On("join", func(s *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		s.Join(room)
		_ = ev.Ack()
	})
	l, err := io.Listen("127.0.0.1:0", engine.ListenConfig{EventLoops: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
		io.Close() // its timer wheel: the next subtest's baseline must not count it
	}()
	url := "http://" + l.Addr()

	// A first small wave lets the runtime and the listener start what they start once
	// (event loops, timer wheels, pools warm-up); the baseline is taken after it.
	nodetest.Run(t, 90*time.Second, "sio-churn.js", append([]string{"--url", url, "--n", "50"}, flags...)...)
	base := settle(t, io, -1)
	t.Logf("baseline: %d goroutines", base)
	// margin: goroutines that come and go regardless of clients (a timer wheel's round, a
	// finishing exec.Cmd); a leak per connection is hundreds here.
	const margin = 5
	for wave := 1; wave <= 3; wave++ {
		nodetest.Run(t, 120*time.Second, "sio-churn.js", append([]string{"--url", url, "--n", "1000"}, flags...)...)
		got := settle(t, io, base+margin)
		t.Logf("after wave %d: %d goroutines", wave, got)
		if got > base+margin {
			t.Fatalf("wave %d: %d goroutines, baseline %d (+%d): leaked\n%s", wave, got, base, margin, goroutineDump())
		}
	}
}

// settle waits until every session is gone and no handler worker is left, then until the
// goroutine count is at most want (or stops changing, when want < 0), and returns it.
func settle(t *testing.T, io *server.Server, want int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for io.Engine().Count() != 0 || io.Stats().HandlerWorkers != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sessions %d, handler workers %d still there", io.Engine().Count(), io.Stats().HandlerWorkers)
		}
		time.Sleep(10 * time.Millisecond)
	}
	n, stable := runtime.NumGoroutine(), 0
	for time.Now().Before(deadline) && stable < 20 {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if want >= 0 && m <= want {
			return m
		}
		if m == n {
			stable++
		} else {
			n, stable = m, 0
		}
	}
	return n
}

func goroutineDump() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	s := b.String()
	if len(s) > 20000 {
		s = s[:20000] + "\n... (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return fmt.Sprint(s)
}

// A Server that is created and never served starts no goroutine (the engine's and the
// server's deadline wheels start with the first listener or client), and Close on it is safe.
func TestUnservedServerHoldsNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	var all []*server.Server
	for i := 0; i < 10; i++ {
		all = append(all, server.New(server.Options{}))
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after creating 10 servers, %d before", n, before)
	}
	for _, s := range all {
		s.Close()
	}
}
