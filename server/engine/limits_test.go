package engine

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/riptide-io/riptide/server/http1"
)

// Bounds, timeouts and failure answers, seen from a client over loopback. Memory bounds are
// asserted on the server's own heap (this process), with the margin stated in each test.

func startListener(t *testing.T, opts Options, cfg ListenConfig, h Handler) (*Server, *Listener) {
	t.Helper()
	srv := NewServer(opts, h)
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	cfg.HTTP = func(*http1.Request, []byte) HTTPResponse { return HTTPResponse{Body: []byte("ok")} }
	l, err := Listen("127.0.0.1:0", cfg, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return srv, l
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// flood writes chunk to c over and over for d, never reading, and returns what it wrote. A
// write cut short by its deadline resumes where it stopped, so the stream stays well formed.
func flood(c net.Conn, chunk []byte, d time.Duration) int64 {
	var n int64
	off := 0
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		w, err := c.Write(chunk[off:])
		n += int64(w)
		off = (off + w) % len(chunk)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			break
		}
	}
	return n
}

func waitFor(t *testing.T, what string, within time.Duration, f func() bool) {
	t.Helper()
	end := time.Now().Add(within)
	for !f() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A client whose message is one byte over maxHttpBufferSize gets close code 1009, every
// time: the connection is drained, not reset over the unread rest of the message.
func TestOversizeMessageGets1009EveryTime(t *testing.T) {
	_, l := startListener(t, Options{}, ListenConfig{}, newEcho())
	url := "ws://" + l.Addr() + eioPath + "?EIO=4&transport=websocket"
	big := ws.MaskFrame(ws.NewTextFrame([]byte("4" + strings.Repeat("x", 1e6))))
	half := strings.Repeat("y", 600_000)
	for i := 0; i < 20; i++ {
		for _, fragmented := range []bool{false, true} {
			w := dialWS(t, url)
			w.readText()
			var err error
			if fragmented { // two fragments that pass the limit together
				err = ws.WriteFrame(w.c, ws.MaskFrame(ws.NewFrame(ws.OpText, false, []byte("4"+half))))
				if err == nil {
					err = ws.WriteFrame(w.c, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte(half))))
				}
			} else {
				err = ws.WriteFrame(w.c, big)
			}
			if err != nil {
				t.Fatalf("try %d: write: %v", i, err)
			}
			op, p := w.read()
			if op != ws.OpClose {
				t.Fatalf("try %d: got %v, want close", i, op)
			}
			if code, _ := ws.ParseCloseFrameData(p); code != ws.StatusMessageTooBig {
				t.Fatalf("try %d (fragmented %v): close code %d, want 1009", i, fragmented, code)
			}
			w.c.Close()
		}
	}
}

// Any oversize header section gets 431, however large: the connection is drained after the
// answer instead of reset.
func TestOversizeHeadGets431(t *testing.T) {
	_, l := startListener(t, Options{}, ListenConfig{}, newEcho())
	for _, size := range []int{17 << 10, 1 << 20, 16 << 20} {
		// As a plain client does: the whole request, then the answer. Were the connection
		// closed over the unread rest of the head, the write would fail with a reset.
		r := dialRaw(t, l.Addr())
		r.send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", size) + "\r\n\r\n")
		resp, _ := r.response()
		if resp.StatusCode != 431 {
			t.Fatalf("%d-byte head: status %d, want 431", size, resp.StatusCode)
		}
	}
}

// A client that pipelines requests and never reads the answers: the server stops reading it
// at WriteSoftLimit, so its heap grows by about that, then closes it after StallTimeout.
// Margin: 24 MiB of heap growth, against the hundreds of MiB the flood asks to be answered.
func TestPipelinedAnswersNeverReadAreBounded(t *testing.T) {
	_, l := startListener(t, Options{}, ListenConfig{WriteSoftLimit: 256 << 10, StallTimeout: 500 * time.Millisecond}, newEcho())
	before := heapInUse()
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	chunk := []byte(strings.Repeat("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 8192))
	sent := flood(c, chunk, time.Second)
	grown := int64(heapInUse()) - int64(before)
	t.Logf("sent %d MiB of requests; server heap grew %d KiB", sent>>20, grown>>10)
	if grown > 24<<20 {
		t.Fatalf("server heap grew %d MiB for a client that does not read", grown>>20)
	}
	// The server may still be working through requests the kernel buffered (slowly, under
	// -race on a loaded machine): the stop comes once their answers pass the soft limit.
	waitFor(t, "the connection stopped being read", 10*time.Second, func() bool { return l.Stats().ReadStopped.Load() > 0 })
	waitFor(t, "stalled connection closed", 5*time.Second, func() bool { return l.Stats().StalledClosed.Load() > 0 })
}

// GETs pipelined behind a parked long-poll GET wait in the kernel, not in the server.
func TestPipelinedBehindParkedGETAreBounded(t *testing.T) {
	_, l := startListener(t, Options{}, ListenConfig{}, newEcho())
	sid := handshakePolling(t, l.Addr(), eioPath)
	before := heapInUse()
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := get(eioPath + "?EIO=4&transport=polling&sid=" + sid)
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	sent := flood(c, []byte(strings.Repeat(req, 4096)), time.Second)
	grown := int64(heapInUse()) - int64(before)
	t.Logf("sent %d MiB behind a parked GET; server heap grew %d KiB", sent>>20, grown>>10)
	if grown > 16<<20 {
		t.Fatalf("server heap grew %d MiB behind a parked GET", grown>>20)
	}
}

// A WebSocket client that sends pings and never reads the pongs.
func TestPongsNeverReadAreBounded(t *testing.T) {
	_, l := startListener(t, Options{}, ListenConfig{WriteSoftLimit: 256 << 10, StallTimeout: 500 * time.Millisecond}, newEcho())
	w := dialWS(t, "ws://"+l.Addr()+eioPath+"?EIO=4&transport=websocket")
	w.readText()
	before := heapInUse()
	ping := ws.MustCompileFrame(ws.MaskFrame(ws.NewPingFrame([]byte(strings.Repeat("p", 125)))))
	sent := flood(w.c, []byte(strings.Repeat(string(ping), 512)), time.Second)
	grown := int64(heapInUse()) - int64(before)
	t.Logf("sent %d MiB of pings; server heap grew %d KiB", sent>>20, grown>>10)
	if grown > 24<<20 {
		t.Fatalf("server heap grew %d MiB for pongs nobody reads", grown>>20)
	}
	waitFor(t, "stalled WebSocket closed", 5*time.Second, func() bool { return l.Stats().StalledClosed.Load() > 0 })
}

// Slow and silent clients are cut: 408 for a head or a body that does not arrive in time,
// a plain close for an idle keep-alive connection. Parked polls are not idle.
func TestHTTPTimeouts(t *testing.T) {
	cfg := ListenConfig{HeaderTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	_, l := startListener(t, Options{}, cfg, newEcho())
	expect408 := func(t *testing.T, r *rawConn) {
		t.Helper()
		_ = r.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, _ := r.response()
		if resp.StatusCode != 408 {
			t.Fatalf("status %d, want 408", resp.StatusCode)
		}
	}
	t.Run("slow head", func(t *testing.T) {
		r := dialRaw(t, l.Addr())
		r.send("GET /healthz HTTP/1.1\r\n")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // one header byte every 50 ms: a slowloris
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := r.c.Write([]byte{'a' + byte(i%26)}); err != nil {
					return
				}
			}
		}()
		expect408(t, r)
		close(stop)
		wg.Wait()
	})
	t.Run("silent", func(t *testing.T) { expect408(t, dialRaw(t, l.Addr())) })
	t.Run("slow body", func(t *testing.T) {
		r := dialRaw(t, l.Addr())
		r.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-some")
		expect408(t, r)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		r := dialRaw(t, l.Addr())
		r.send(get("/healthz"))
		if resp, _ := r.response(); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		_ = r.c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, err := r.br.ReadByte(); err != io.EOF {
			t.Fatalf("idle connection: read %v %v, want EOF", n, err)
		}
	})
	t.Run("parked poll is not idle", func(t *testing.T) {
		sid := handshakePolling(t, l.Addr(), eioPath)
		r := dialRaw(t, l.Addr())
		r.send(get(eioPath + "?EIO=4&transport=polling&sid=" + sid))
		_ = r.c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := r.br.ReadByte(); err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("parked GET answered or closed: %v", err)
		}
	})
	if n := l.Stats().TimedOut.Load(); n < 4 {
		t.Fatalf("TimedOut = %d, want 4", n)
	}
}

// A paused session is not read: its messages wait (in the kernel) until Resume, then come
// in order.
func TestPauseStopsReadingWebSocket(t *testing.T) {
	r := &recorder{closes: make(chan CloseReason, 4)}
	var paused sync.WaitGroup
	paused.Add(1)
	var sess *Session
	r.onMsg = func(s *Session, data []byte) {
		if string(data) == "stop" {
			sess = s
			s.Pause()
			paused.Done()
		}
	}
	_, l := startListener(t, Options{}, ListenConfig{}, r)
	w := dialWS(t, "ws://"+l.Addr()+eioPath+"?EIO=4&transport=websocket")
	w.readText()
	w.sendText("4stop")
	for i := 0; i < 50; i++ {
		w.sendText(fmt.Sprintf("4m%d", i))
	}
	paused.Wait()
	time.Sleep(200 * time.Millisecond) // time for the 50 messages to arrive, were they read
	r.mu.Lock()
	n := len(r.msgs)
	r.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d messages delivered to a paused session, want 1", n)
	}
	if l.Stats().ReadStopped.Load() == 0 {
		t.Fatal("the paused connection was not taken out of the read set")
	}
	// The engine found the loops' epoll descriptors in gnet: if a gnet upgrade moves them,
	// this fails instead of read control silently doing nothing.
	l.epfds.Range(func(_, v any) bool {
		if v.(int) < 0 {
			t.Fatal("an event loop's epoll descriptor was not found in gnet")
		}
		return true
	})
	sess.Resume()
	waitFor(t, "messages after Resume", 3*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) == 51
	})
	for i, m := range r.msgs[1:] {
		if m != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d is %q: order lost", i, m)
		}
	}
}

// A polling POST with a chunked body (what Node's http.request sends for a streamed body)
// is decoded and delivered; the limit applies to the decoded body; framing that could
// smuggle a request is refused.
func TestChunkedPOST(t *testing.T) {
	r := &recorder{closes: make(chan CloseReason, 4)}
	_, l := startListener(t, Options{MaxHTTPBufferSize: 100}, ListenConfig{}, r)
	sid := handshakePolling(t, l.Addr(), eioPath)
	path := eioPath + "?EIO=4&transport=polling&sid=" + sid
	head := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n"

	c := dialRaw(t, l.Addr())
	c.send(head + "6\r\n4hello\r\n")
	time.Sleep(20 * time.Millisecond) // the rest arrives later, as a stream does
	c.send("7\r\n\x1e4world\r\n0\r\n\r\n")
	if resp, body := c.response(); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("chunked POST: %d %q", resp.StatusCode, body)
	}
	waitFor(t, "both messages", 2*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.msgs) == 2 && r.msgs[0] == "hello" && r.msgs[1] == "world"
	})

	c = dialRaw(t, l.Addr())
	c.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
	if resp, _ := c.response(); resp.StatusCode != 100 {
		t.Fatalf("Expect: 100-continue answered %d", resp.StatusCode)
	}
	c.send("65\r\n4" + strings.Repeat("x", 100) + "\r\n0\r\n\r\n") // 101 bytes decoded: over the limit
	if resp, _ := c.response(); resp.StatusCode != 413 {
		t.Fatalf("chunked body over maxHttpBufferSize: %d, want 413", resp.StatusCode)
	}

	for name, req := range map[string]string{
		"both lengths":     "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"two lengths":      "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n4a4",
		"bad chunk size":   head + "zz\r\n4hello\r\n0\r\n\r\n",
		"chunked not last": "POST " + path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
	} {
		c := dialRaw(t, l.Addr())
		c.send(req)
		if resp, _ := c.response(); resp.StatusCode != 400 {
			t.Fatalf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
}

// Handshakes over the connection limits are refused before any session exists, with the
// status and the documented code; X-Forwarded-For counts only from trusted proxies.
func TestConnectionLimits(t *testing.T) {
	handshake := func(t *testing.T, addr string, xff string, ws bool) (int, string) {
		t.Helper()
		r := dialRaw(t, addr)
		req := "GET " + eioPath + "?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
		if ws {
			req = "GET " + eioPath + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		}
		if xff != "" {
			req += "X-Forwarded-For: " + xff + "\r\n"
		}
		r.send(req + "\r\n")
		resp, body := r.response()
		return resp.StatusCode, body
	}
	t.Run("node", func(t *testing.T) {
		srv, l := startListener(t, Options{MaxSessions: 2}, ListenConfig{}, newEcho())
		for i := 0; i < 2; i++ {
			if code, _ := handshake(t, l.Addr(), "", false); code != 200 {
				t.Fatalf("handshake %d: %d", i, code)
			}
		}
		for _, ws := range []bool{false, true} {
			code, body := handshake(t, l.Addr(), "", ws)
			if code != 503 || body != `{"code":"CONN_LIMIT_NODE","message":"the server is at its connection limit"}` {
				t.Fatalf("over the node limit (ws %v): %d %s", ws, code, body)
			}
		}
		if srv.Count() != 2 {
			t.Fatalf("%d sessions: a refused handshake made one", srv.Count())
		}
		var one *Session
		srv.Range(func(s *Session) bool { one = s; return false })
		one.terminate(ReasonForcedClose)
		if code, _ := handshake(t, l.Addr(), "", true); code != 101 {
			t.Fatalf("after a session ended: %d", code)
		}
	})
	t.Run("draining", func(t *testing.T) {
		srv, l := startListener(t, Options{}, ListenConfig{}, newEcho())
		sid := handshakePolling(t, l.Addr(), eioPath)
		srv.RefuseHandshakes(true)
		for _, ws := range []bool{false, true} {
			code, body := handshake(t, l.Addr(), "", ws)
			if code != 503 || body != `{"code":"SERVER_DRAINING","message":"the server is shutting down: connect to another node"}` {
				t.Fatalf("while refusing (ws %v): %d %s", ws, code, body)
			}
		}
		// The open session goes on: a POST and a GET with its sid, then its upgrade.
		r := dialRaw(t, l.Addr())
		r.send(post(eioPath+"?EIO=4&transport=polling&sid="+sid, "4hi"))
		if resp, body := r.response(); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("POST of an open session while refusing: %d %q", resp.StatusCode, body)
		}
		r.send(get(eioPath + "?EIO=4&transport=polling&sid=" + sid))
		if resp, body := r.response(); resp.StatusCode != 200 || body != "4hi" {
			t.Fatalf("GET of an open session while refusing: %d %q", resp.StatusCode, body)
		}
		w := dialWS(t, "ws://"+l.Addr()+eioPath+"?EIO=4&transport=websocket&sid="+sid)
		w.sendText("2probe")
		if got := w.readText(); got != "3probe" {
			t.Fatalf("upgrade probe while refusing: %q", got)
		}
		if srv.Count() != 1 {
			t.Fatalf("%d sessions: a refused handshake made one", srv.Count())
		}
		srv.RefuseHandshakes(false)
		if code, _ := handshake(t, l.Addr(), "", true); code != 101 {
			t.Fatalf("accepting again: %d", code)
		}
	})
	t.Run("address behind a trusted proxy", func(t *testing.T) {
		trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		_, l := startListener(t, Options{MaxSessionsPerAddress: 1, TrustedProxies: trusted}, ListenConfig{}, newEcho())
		if code, _ := handshake(t, l.Addr(), "203.0.113.7", false); code != 200 {
			t.Fatalf("first from 203.0.113.7: %d", code)
		}
		code, body := handshake(t, l.Addr(), "198.51.100.1, 203.0.113.7", false)
		if code != 429 || !strings.Contains(body, `"code":"CONN_LIMIT_ADDRESS"`) {
			t.Fatalf("second from 203.0.113.7 (a forged hop on its left): %d %s", code, body)
		}
		if code, _ := handshake(t, l.Addr(), "203.0.113.8", false); code != 200 {
			t.Fatalf("another address: %d", code)
		}
	})
	t.Run("forwarded header from an untrusted peer", func(t *testing.T) {
		_, l := startListener(t, Options{MaxSessionsPerAddress: 1}, ListenConfig{}, newEcho())
		handshake(t, l.Addr(), "203.0.113.1", false)
		if code, _ := handshake(t, l.Addr(), "203.0.113.2", false); code != 429 {
			t.Fatalf("a forged X-Forwarded-For escaped the limit: %d", code)
		}
	})
}
