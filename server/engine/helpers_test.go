package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/riptide-io/riptide/codec/eio"
	"github.com/riptide-io/riptide/server/http1"
)

// echoHandler sends every message back and records closes.
type echoHandler struct {
	mu     sync.Mutex
	closes map[string]CloseReason
	closed chan string
}

func newEcho() *echoHandler {
	return &echoHandler{closes: map[string]CloseReason{}, closed: make(chan string, 1024)}
}

func (h *echoHandler) OnOpen(*Session) {}
func (h *echoHandler) OnMessage(s *Session, data []byte, binary bool) {
	_ = s.Send(data, binary)
}
func (h *echoHandler) OnClose(s *Session, r CloseReason) {
	h.mu.Lock()
	h.closes[s.ID()] = r
	h.mu.Unlock()
	h.closed <- s.ID()
}

// waitClose waits for the session sid to close and returns the reason.
func (h *echoHandler) waitClose(t *testing.T, sid string, within time.Duration) CloseReason {
	t.Helper()
	deadline := time.After(within)
	for {
		h.mu.Lock()
		r, ok := h.closes[sid]
		h.mu.Unlock()
		if ok {
			return r
		}
		select {
		case <-h.closed:
		case <-deadline:
			t.Fatalf("session %s not closed within %v", sid, within)
		}
	}
}

// startServer serves srv on a free loopback port for the duration of the test.
func startServer(t *testing.T, opts Options, h Handler) (*Server, string) {
	t.Helper()
	srv := NewServer(opts, h)
	l, err := Listen("127.0.0.1:0", ListenConfig{EventLoops: 2, HTTP: func(*http1.Request, []byte) HTTPResponse {
		return HTTPResponse{Body: []byte("ok")}
	}}, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return srv, l.Addr()
}

// rawConn is a plain TCP client for byte-exact HTTP checks.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) response() (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

func get(path string) string {
	return fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
}

func post(path, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
}

// handshakePolling opens a polling session and returns its sid.
func handshakePolling(t *testing.T, addr, path string) string {
	t.Helper()
	r := dialRaw(t, addr)
	r.send(get(path + "?EIO=4&transport=polling"))
	resp, body := r.response()
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	var h struct{ Sid string }
	if err := json.Unmarshal([]byte(body[1:]), &h); err != nil {
		t.Fatal(err)
	}
	return h.Sid
}

// wsClient is a raw WebSocket client (gobwas/ws) that sees every frame.
type wsClient struct {
	t *testing.T
	c net.Conn
	r io.Reader
}

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	w := &wsClient{t: t, c: c, r: c}
	if br != nil { // the open packet may come in the same segment as the 101
		w.r = io.MultiReader(br, c)
	}
	return w
}

func (w *wsClient) sendText(s string) {
	w.t.Helper()
	if err := wsutil.WriteClientText(w.c, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

// read returns the next data frame's payload and opcode; control frames are returned too.
func (w *wsClient) read() (ws.OpCode, []byte) {
	w.t.Helper()
	h, err := ws.ReadHeader(w.r)
	if err != nil {
		w.t.Fatalf("read header: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(w.r, p); err != nil {
		w.t.Fatalf("read payload: %v", err)
	}
	return h.OpCode, p
}

func (w *wsClient) readText() string {
	w.t.Helper()
	op, p := w.read()
	if op != ws.OpText {
		w.t.Fatalf("want text frame, got %v %q", op, p)
	}
	return string(p)
}

func parseOpen(t *testing.T, s string) eio.Handshake {
	t.Helper()
	if !strings.HasPrefix(s, "0") {
		t.Fatalf("not an open packet: %q", s)
	}
	h, err := eio.ParseOpen([]byte(s[1:]))
	if err != nil {
		t.Fatal(err)
	}
	return h
}
