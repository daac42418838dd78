package server

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// TestCloseReportsServerShutdown: Server.Close gives every socket's disconnecting and
// disconnect handlers "server shutting down", as Node's io.close() does, and a real
// socket.io-client sees what it sees from Node: a transport close, after which it would
// reconnect.
func TestCloseReportsServerShutdown(t *testing.T) {
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) { testCloseReportsServerShutdown(t, tr) })
	}
}

func testCloseReportsServerShutdown(t *testing.T, transport string) {
	nodetest.Setup(t)
	io := New(Options{})
	reasons := make(chan DisconnectReason, 4)
	io.OnConnection(func(s *Socket) {
		s.OnDisconnecting(func(r DisconnectReason) { reasons <- "disconnecting: " + r })
		s.OnDisconnect(func(r DisconnectReason) { reasons <- r })
	})
	ready := make(chan struct{}, 1)
	io.On("ready", func(_ *Socket, ev *Event) { _ = ev.Ack(); ready <- struct{}{} })
	addr := startIO(t, io)
	out := make(chan json.RawMessage, 1)
	go func() {
		out <- nodetest.Run(t, 30*time.Second, "sio-shutdown.js", "--url", "http://"+addr, "--transports", transport)
	}()
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatal("the client did not connect")
	}
	io.Close()
	for _, want := range []DisconnectReason{"disconnecting: " + ReasonServerShutdown, ReasonServerShutdown} {
		select {
		case r := <-reasons:
			if r != want {
				t.Fatalf("handler saw %q, want %q", r, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	var res struct {
		Reason string
		Active bool
	}
	if err := json.Unmarshal(<-out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Reason != "transport close" || !res.Active {
		t.Fatalf("client saw %+v, want reason \"transport close\" and a client that reconnects", res)
	}
	select {
	case r := <-reasons:
		t.Fatalf("a second disconnect: %q", r)
	default:
	}
}
