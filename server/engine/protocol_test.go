package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

const eioPath = "/engine.io/"

func TestHandshakeOpenPacket(t *testing.T) {
	_, addr := startServer(t, Options{}, newEcho())
	r := dialRaw(t, addr)
	r.send(get(eioPath + "?EIO=4&transport=polling&t=abc"))
	resp, body := r.response()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Fatalf("status %d, content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	h := parseOpen(t, body)
	if len(h.SID) != 20 || fmt.Sprint(h.Upgrades) != "[websocket]" || h.PingInterval != 25000 || h.PingTimeout != 20000 || h.MaxPayload != 1e6 {
		t.Fatalf("open packet %+v", h)
	}
	// Key order as the reference writes it.
	want := fmt.Sprintf(`0{"sid":"%s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, h.SID)
	if body != want {
		t.Fatalf("open packet\n got %s\nwant %s", body, want)
	}

	w := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket")
	h = parseOpen(t, w.readText())
	if len(h.Upgrades) != 0 {
		t.Fatalf("websocket handshake upgrades = %v, want []", h.Upgrades)
	}
}

func TestHTTPErrors(t *testing.T) {
	_, addr := startServer(t, Options{AllowRequest: func(r *Request) error {
		if r.Query().Get("deny") != "" {
			return errors.New("go away")
		}
		return nil
	}}, newEcho())
	cases := []struct {
		name, req string
		status    int
		code      int
		message   string
	}{
		{"unknown transport", get(eioPath + "?EIO=4&transport=tobi"), 400, 0, "Transport unknown"},
		{"missing transport", get(eioPath + "?EIO=4"), 400, 0, "Transport unknown"},
		{"unknown sid GET", get(eioPath + "?EIO=4&transport=polling&sid=nope"), 400, 1, "Session ID unknown"},
		{"unknown sid POST", post(eioPath+"?EIO=4&transport=polling&sid=nope", "4x"), 400, 1, "Session ID unknown"},
		{"handshake with POST", post(eioPath+"?EIO=4&transport=polling", "4x"), 400, 2, "Bad handshake method"},
		{"websocket without upgrade", get(eioPath + "?EIO=4&transport=websocket"), 400, 3, "Bad request"},
		{"EIO 3", get(eioPath + "?EIO=3&transport=polling"), 400, 5, "Unsupported protocol version"},
		{"no EIO", get(eioPath + "?transport=polling"), 400, 5, "Unsupported protocol version"},
		{"allowRequest refuses", get(eioPath + "?EIO=4&transport=polling&deny=1"), 403, 4, "go away"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, addr)
			r.send(tc.req)
			resp, body := r.response()
			var got struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if resp.StatusCode != tc.status || got.Code != tc.code || got.Message != tc.message {
				t.Fatalf("got %d %+v, want %d {%d %s}", resp.StatusCode, got, tc.status, tc.code, tc.message)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("content-type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestKeepAliveAndPipelining(t *testing.T) {
	_, addr := startServer(t, Options{}, newEcho())
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	r := dialRaw(t, addr)
	// Two POSTs and a GET in one write: answered in order on one connection.
	r.send(post(q, "4one") + post(q, "4two\x1e4three") + get(q))
	for i := 0; i < 2; i++ {
		resp, body := r.response()
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("post %d: %d %q", i, resp.StatusCode, body)
		}
	}
	resp, body := r.response()
	if resp.StatusCode != 200 || body != "4one\x1e4two\x1e4three" {
		t.Fatalf("get: %d %q", resp.StatusCode, body)
	}
	// The connection is still usable, and a parked GET is released by a POST on another one.
	r.send(get(q))
	time.Sleep(50 * time.Millisecond)
	r2 := dialRaw(t, addr)
	r2.send(post(q, "4late"))
	if resp, body := r2.response(); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("post: %d %q", resp.StatusCode, body)
	}
	if resp, body := r.response(); resp.StatusCode != 200 || body != "4late" {
		t.Fatalf("parked get: %d %q", resp.StatusCode, body)
	}
}

func TestOverlappingGETClosesSession(t *testing.T) {
	h := newEcho()
	_, addr := startServer(t, Options{}, h)
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	first := dialRaw(t, addr)
	first.send(get(q))
	time.Sleep(50 * time.Millisecond)
	second := dialRaw(t, addr)
	second.send(get(q))
	if resp, _ := second.response(); resp.StatusCode != 400 {
		t.Fatalf("second GET: %d, want 400", resp.StatusCode)
	}
	if resp, body := first.response(); resp.StatusCode != 200 || body != "1" {
		t.Fatalf("pending GET: %d %q, want close packet", resp.StatusCode, body)
	}
	if r := h.waitClose(t, sid, time.Second); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	third := dialRaw(t, addr)
	third.send(get(q))
	if resp, _ := third.response(); resp.StatusCode != 400 {
		t.Fatalf("GET after close: %d", resp.StatusCode)
	}
}

func TestPostLimits(t *testing.T) {
	h := newEcho()
	_, addr := startServer(t, Options{MaxHTTPBufferSize: 100}, h)
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid

	// Over the limit: 413 from the length header, the session survives (as in the reference).
	r := dialRaw(t, addr)
	r.send(post(q, "4"+strings.Repeat("x", 100)))
	if resp, _ := r.response(); resp.StatusCode != 413 {
		t.Fatalf("oversized POST: %d, want 413", resp.StatusCode)
	}
	// Exactly the limit is accepted.
	r = dialRaw(t, addr)
	r.send(post(q, "4"+strings.Repeat("y", 99)) + get(q))
	if resp, body := r.response(); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("POST at the limit: %d %q", resp.StatusCode, body)
	}
	if resp, body := r.response(); resp.StatusCode != 200 || body != "4"+strings.Repeat("y", 99) {
		t.Fatalf("echo: %d %q", resp.StatusCode, body)
	}

	// An invalid packet: 400 and the session is gone.
	r.send(post(q, "9nonsense"))
	if resp, _ := r.response(); resp.StatusCode != 400 {
		t.Fatalf("invalid packet: %d, want 400", resp.StatusCode)
	}
	if reason := h.waitClose(t, sid, time.Second); reason != ReasonParseError {
		t.Fatalf("reason %q", reason)
	}
	r.send(get(q))
	if resp, _ := r.response(); resp.StatusCode != 400 {
		t.Fatalf("GET after parse error: %d", resp.StatusCode)
	}
}

func TestBinaryPolling(t *testing.T) {
	_, addr := startServer(t, Options{}, newEcho())
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	r := dialRaw(t, addr)
	// Binary both ways as b+base64, including an empty buffer.
	r.send(post(q, "bAQID\x1eb\x1e4text") + get(q))
	r.response()
	if _, body := r.response(); body != "bAQID\x1eb\x1e4text" {
		t.Fatalf("echo %q", body)
	}
}

func TestCORS(t *testing.T) {
	_, addr := startServer(t, Options{CORS: &CORS{Origins: []string{"http://allowed.example"}, Credentials: true}}, newEcho())
	r := dialRaw(t, addr)
	r.send("OPTIONS " + eioPath + "?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://allowed.example\r\n" +
		"Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n")
	resp, _ := r.response()
	hd := resp.Header
	if resp.StatusCode != 204 || hd.Get("Access-Control-Allow-Origin") != "http://allowed.example" ||
		hd.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(hd.Get("Access-Control-Allow-Methods"), "POST") ||
		hd.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, hd)
	}
	r.send("GET " + eioPath + "?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n\r\n")
	resp, _ = r.response()
	// One configured origin is always sent (the `cors` package's string form); the browser
	// refuses it for any other origin. What must never happen: echoing the other origin or "*".
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v == "http://evil.example" || v == "*" {
		t.Fatalf("other origin got Allow-Origin %q", v)
	}
}

func TestHTTPHook(t *testing.T) {
	_, addr := startServer(t, Options{}, newEcho())
	r := dialRaw(t, addr)
	r.send(get("/healthz") + get("/healthz"))
	for i := 0; i < 2; i++ {
		if resp, body := r.response(); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("healthz: %d %q", resp.StatusCode, body)
		}
	}
}

func TestWebSocketProtocolErrors(t *testing.T) {
	_, addr := startServer(t, Options{MaxHTTPBufferSize: 1000}, newEcho())
	url := "ws://" + addr + eioPath + "?EIO=4&transport=websocket"
	cases := []struct {
		name  string
		frame ws.Frame
		code  ws.StatusCode
	}{
		{"unmasked", ws.NewTextFrame([]byte("4hi")), ws.StatusProtocolError},
		{"bad opcode", ws.MaskFrame(ws.NewFrame(ws.OpCode(3), true, []byte("x"))), ws.StatusProtocolError},
		{"too big", ws.MaskFrame(ws.NewTextFrame([]byte("4" + strings.Repeat("x", 1000)))), ws.StatusMessageTooBig},
		{"invalid utf-8", ws.MaskFrame(ws.NewTextFrame([]byte("4\xff\xfe"))), ws.StatusInvalidFramePayloadData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := dialWS(t, url)
			w.readText() // open
			if err := ws.WriteFrame(w.c, tc.frame); err != nil {
				t.Fatal(err)
			}
			op, p := w.read()
			if op != ws.OpClose {
				t.Fatalf("got %v %q, want close", op, p)
			}
			code, _ := ws.ParseCloseFrameData(p)
			if code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
		})
	}
	// A message just under the limit is fine, also when fragmented.
	w := dialWS(t, url)
	w.readText()
	msg := "4" + strings.Repeat("z", 998)
	_ = ws.WriteFrame(w.c, ws.MaskFrame(ws.NewFrame(ws.OpText, false, []byte(msg[:500]))))
	_ = ws.WriteFrame(w.c, ws.MaskFrame(ws.NewPingFrame([]byte("p"))))
	_ = ws.WriteFrame(w.c, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte(msg[500:]))))
	if op, p := w.read(); op != ws.OpPong || string(p) != "p" {
		t.Fatalf("want pong, got %v %q", op, p)
	}
	if got := w.readText(); got != msg {
		t.Fatalf("echo of fragmented message: %d bytes", len(got))
	}
}

func TestUpgradeRaw(t *testing.T) {
	_, addr := startServer(t, Options{}, newEcho())
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	getConn := dialRaw(t, addr)
	getConn.send(get(q))
	time.Sleep(30 * time.Millisecond)

	w := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket&sid="+sid)
	w.sendText("2probe")
	if got := w.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if _, body := getConn.response(); body != "6" {
		t.Fatalf("parked GET released with %q, want noop", body)
	}
	// A message sent over polling while probing: its echo is held for the WebSocket.
	p := dialRaw(t, addr)
	p.send(post(q, "4during"))
	p.response()
	w.sendText("5")
	if got := w.readText(); got != "4during" {
		t.Fatalf("held packet %q", got)
	}
	w.sendText("4after")
	if got := w.readText(); got != "4after" {
		t.Fatalf("echo %q", got)
	}
	p.send(get(q))
	if resp, _ := p.response(); resp.StatusCode != 400 {
		t.Fatalf("GET after upgrade: %d, want 400", resp.StatusCode)
	}
	// A second WebSocket for the upgraded session is closed.
	w2 := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket&sid="+sid)
	if op, _ := w2.read(); op != ws.OpClose {
		t.Fatalf("second websocket got %v, want close", op)
	}
}

func TestHeartbeat(t *testing.T) {
	h := newEcho()
	_, addr := startServer(t, Options{PingInterval: 150 * time.Millisecond, PingTimeout: 100 * time.Millisecond}, h)
	w := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket")
	sid := parseOpen(t, w.readText()).SID
	// Answer three pings: the session stays.
	for i := 0; i < 3; i++ {
		if op, got := w.read(); op != ws.OpText || string(got) != "2" {
			h.mu.Lock()
			t.Fatalf("ping %d: %v %q (closes: %v)", i, op, got, h.closes)
		}
		w.sendText("3")
	}
	// Stop answering: the next ping goes unanswered and the session ends with "ping timeout".
	start := time.Now()
	if got := w.readText(); got != "2" {
		t.Fatalf("ping: %q", got)
	}
	if r := h.waitClose(t, sid, 2*time.Second); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	// Protocol timing, not speed: the session must outlive pingTimeout after the ping.
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("closed %v after the ping, before pingTimeout", d)
	}
	if op, _ := w.read(); op != ws.OpClose {
		t.Fatalf("want close frame, got %v", op)
	}
}

func TestClientPingIsAnError(t *testing.T) {
	h := newEcho()
	_, addr := startServer(t, Options{}, h)
	w := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket")
	sid := parseOpen(t, w.readText()).SID
	w.sendText("2")
	if r := h.waitClose(t, sid, time.Second); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestSessionClose(t *testing.T) {
	h := newEcho()
	srv, addr := startServer(t, Options{}, h)
	// WebSocket: queued packets, then a close frame.
	w := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket")
	sid := parseOpen(t, w.readText()).SID
	s := srv.Session(sid)
	_ = s.Send([]byte("bye"), false)
	s.Close()
	if got := w.readText(); got != "4bye" {
		t.Fatalf("got %q", got)
	}
	if op, _ := w.read(); op != ws.OpClose {
		t.Fatal("want close frame")
	}
	if r := h.waitClose(t, sid, time.Second); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	// Polling without a pending GET: the next GET carries the queue, the one after it a
	// noop and the close packet (as the reference: the close waits for the queue to drain).
	sid = handshakePolling(t, addr, eioPath)
	s = srv.Session(sid)
	_ = s.Send([]byte("bye"), false)
	s.Close()
	r := dialRaw(t, addr)
	r.send(get(eioPath + "?EIO=4&transport=polling&sid=" + sid))
	if _, body := r.response(); body != "4bye" {
		t.Fatalf("got %q", body)
	}
	r.send(get(eioPath + "?EIO=4&transport=polling&sid=" + sid))
	if _, body := r.response(); body != "6\x1e1" {
		t.Fatalf("got %q", body)
	}
	if reason := h.waitClose(t, sid, time.Second); reason != ReasonForcedClose {
		t.Fatalf("reason %q", reason)
	}
}

var _ = wsutil.WriteClientText

func TestClientCloseReleasesPollWithNoop(t *testing.T) {
	h := newEcho()
	_, addr := startServer(t, Options{}, h)
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	g := dialRaw(t, addr)
	g.send(get(q))
	time.Sleep(30 * time.Millisecond)
	p := dialRaw(t, addr)
	p.send(post(q, "1"))
	if resp, body := p.response(); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("close POST: %d %q", resp.StatusCode, body)
	}
	// The reference's Polling.onClose answers the pending GET with a noop.
	if _, body := g.response(); body != "6" {
		t.Fatalf("pending GET got %q, want noop", body)
	}
	if r := h.waitClose(t, sid, time.Second); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
}

func TestPollAfterPongDeadlineIsRefused(t *testing.T) {
	h := newEcho()
	_, addr := startServer(t, Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, h)
	sid := handshakePolling(t, addr, eioPath)
	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	r := dialRaw(t, addr)
	r.send(get(q))
	if _, body := r.response(); body != "2" {
		t.Fatalf("want ping, got %q", body)
	}
	time.Sleep(120 * time.Millisecond) // past pingTimeout without a pong
	r.send(get(q))
	if resp, body := r.response(); resp.StatusCode != 400 || !strings.Contains(body, `"code":1`) {
		t.Fatalf("GET after the pong deadline: %d %q", resp.StatusCode, body)
	}
	if reason := h.waitClose(t, sid, time.Second); reason != ReasonPingTimeout {
		t.Fatalf("reason %q", reason)
	}
}

func TestCookie(t *testing.T) {
	_, addr := startServer(t, Options{Cookie: &Cookie{}}, newEcho())
	r := dialRaw(t, addr)
	r.send(get(eioPath + "?EIO=4&transport=polling"))
	resp, body := r.response()
	sid := parseOpen(t, body).SID
	if got, want := resp.Header.Get("Set-Cookie"), "io="+sid+"; Path=/; HttpOnly; SameSite=Lax"; got != want {
		t.Fatalf("Set-Cookie %q, want %q", got, want)
	}
	// A WebSocket handshake sets it in the 101 response.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", eioPath)
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		!strings.HasPrefix(resp.Header.Get("Set-Cookie"), "io=") {
		t.Fatalf("101: %d %v", resp.StatusCode, resp.Header)
	}
}
