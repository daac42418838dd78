package engine

import (
	"net/netip"
	"testing"
	"time"
)

func TestRequestKeepsWhatHandshakesNeed(t *testing.T) {
	head := "GET /socket.io/?EIO=4&transport=websocket&token=x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Origin: http://app.example\r\nCookie: io=1\r\nX-Forwarded-Proto: https\r\n\r\n"
	r := newRequest([]byte(head), "127.0.0.1:5", time.Unix(1, 0))
	if len(r.head) >= len(head)-80 {
		t.Fatalf("kept %d of %d bytes", len(r.head), len(head))
	}
	if r.Header("Origin") != "http://app.example" || r.Header("Cookie") != "io=1" || r.Header("X-Forwarded-Proto") != "https" {
		t.Fatalf("lost a header: %q", r.head)
	}
	if r.Header("Sec-WebSocket-Key") != "" || r.Header("Upgrade") != "" {
		t.Fatalf("kept an upgrade header: %q", r.head)
	}
	if r.Query().Get("token") != "x" || r.Method() != "GET" || r.URL() != "/socket.io/?EIO=4&transport=websocket&token=x" {
		t.Fatalf("request line: %q", r.head)
	}
}

// The client address and TLS of a handshake come from forwarding headers only when the
// peer is a trusted proxy; X-Forwarded-For sent as several lines is one list (HAProxy's
// option forwardfor adds its own line after the client's), read right to left.
func TestForwardedHeaders(t *testing.T) {
	srv := &Server{opts: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	for _, tc := range []struct {
		peer, headers, addr string
		secure              bool
	}{
		{"192.0.2.1:5", "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n", "192.0.2.1", false},
		{"10.0.0.2:5", "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n", "203.0.113.7", true},
		{"10.0.0.2:5", "", "10.0.0.2", false},
		// The client forged a line; the proxy appended the real address as a second one.
		{"10.0.0.2:5", "X-Forwarded-For: 198.51.100.1\r\nx-forwarded-for: 203.0.113.7\r\n", "203.0.113.7", false},
		// Proxies in a chain, on both lines; the right-most untrusted hop is the client.
		{"10.0.0.2:5", "X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\nX-Forwarded-For: 10.1.1.1, 10.2.2.2\r\n", "203.0.113.9", false},
		{"10.0.0.2:5", "X-Forwarded-For: 198.51.100.1, garbage\r\nX-Forwarded-For: 10.1.1.1\r\n", "10.1.1.1", false},
		// The last X-Forwarded-Proto is the proxy's.
		{"10.0.0.2:5", "X-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n", "10.0.0.2", false},
		{"10.0.0.2:5", "X-Forwarded-Proto: http\r\nX-Forwarded-Proto:  HTTPS \r\n", "10.0.0.2", true},
	} {
		r := newRequest([]byte("GET /socket.io/?EIO=4 HTTP/1.1\r\nHost: a\r\n"+tc.headers+"\r\n"), tc.peer, time.Unix(1, 0))
		if got := srv.ClientAddr(r).String(); got != tc.addr {
			t.Errorf("%s %q: client address %s, want %s", tc.peer, tc.headers, got, tc.addr)
		}
		if got := srv.Secure(r); got != tc.secure {
			t.Errorf("%s %q: secure %v, want %v", tc.peer, tc.headers, got, tc.secure)
		}
	}
}
