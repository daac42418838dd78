package engine

import (
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
	if r.Header("Origin") != "http://app.example" || r.Header("Cookie") != "io=1" || !r.Secure() {
		t.Fatalf("lost a header: %q", r.head)
	}
	if r.Header("Sec-WebSocket-Key") != "" || r.Header("Upgrade") != "" {
		t.Fatalf("kept an upgrade header: %q", r.head)
	}
	if r.Query().Get("token") != "x" || r.Method() != "GET" || r.URL() != "/socket.io/?EIO=4&transport=websocket&token=x" {
		t.Fatalf("request line: %q", r.head)
	}
}
