package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/riptide-io/riptide/server/engine"
)

// startIO serves io on a free loopback port for the test.
func startIO(t *testing.T, io *Server) string { return startIOB(t, io) }

func startIOB(t testing.TB, io *Server) string {
	t.Helper()
	l, err := io.Listen("127.0.0.1:0", engine.ListenConfig{EventLoops: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return l.Addr()
}

// wire is a raw WebSocket Engine.IO client that speaks Socket.IO packets as strings, for
// byte-exact checks. (The interop tests in internal/nodetest use the real npm client.)
type wire struct {
	t   testing.TB
	c   net.Conn
	r   io.Reader
	sid string
}

func dialWire(t testing.TB, addr string) *wire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, br, _, err := ws.Dial(ctx, "ws://"+addr+"/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	w := &wire{t: t, c: c, r: c}
	if br != nil {
		w.r = io.MultiReader(br, c)
	}
	open := w.next()
	var h struct{ Sid string }
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &h) != nil {
		t.Fatalf("open packet %q", open)
	}
	w.sid = h.Sid
	return w
}

func (w *wire) send(s string) {
	w.t.Helper()
	if err := wsutil.WriteClientText(w.c, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wire) sendBinary(b []byte) {
	w.t.Helper()
	if err := wsutil.WriteClientBinary(w.c, b); err != nil {
		w.t.Fatal(err)
	}
}

// frame reads one frame: text frames come back as strings, binary as "<bin:hex>".
func (w *wire) frame() (ws.OpCode, []byte, error) {
	h, err := ws.ReadHeader(w.r)
	if err != nil {
		return 0, nil, err
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(w.r, p)
	return h.OpCode, p, err
}

// next returns the next text message, answering pings on the way.
func (w *wire) next() string {
	w.t.Helper()
	for {
		op, p, err := w.frame()
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		if op == ws.OpClose {
			w.t.Fatalf("connection closed (%q) while waiting for a message", p)
		}
		if op == ws.OpText && string(p) == "2" {
			w.send("3")
			continue
		}
		if op != ws.OpText {
			w.t.Fatalf("want text, got %v %q", op, p)
		}
		return string(p)
	}
}

func (w *wire) nextBinary() []byte {
	w.t.Helper()
	op, p, err := w.frame()
	if err != nil || op != ws.OpBinary {
		w.t.Fatalf("want binary frame, got %v %q %v", op, p, err)
	}
	return p
}

// expectClosed waits for the server to close the connection.
func (w *wire) expectClosed() {
	w.t.Helper()
	for {
		op, _, err := w.frame()
		if err != nil || op == ws.OpClose {
			return
		}
	}
}

// connect joins a namespace and returns the socket id from the CONNECT reply.
func (w *wire) connect(nsp, auth string) string {
	w.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	w.send(prefix + auth)
	reply := w.next()
	if !strings.HasPrefix(reply, prefix+"{") {
		w.t.Fatalf("CONNECT reply %q", reply)
	}
	var r struct{ Sid string }
	if err := json.Unmarshal([]byte(reply[len(prefix):]), &r); err != nil || r.Sid == "" {
		w.t.Fatalf("CONNECT reply %q", reply)
	}
	return r.Sid
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
