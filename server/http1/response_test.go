package http1

import (
	"net/http"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/allocs"
)

func TestAppendStatusLine(t *testing.T) {
	// Node 20 http.STATUS_CODES.
	for code, want := range map[int]string{
		101: "HTTP/1.1 101 Switching Protocols\r\n",
		200: "HTTP/1.1 200 OK\r\n",
		204: "HTTP/1.1 204 No Content\r\n",
		400: "HTTP/1.1 400 Bad Request\r\n",
		403: "HTTP/1.1 403 Forbidden\r\n",
		404: "HTTP/1.1 404 Not Found\r\n",
		405: "HTTP/1.1 405 Method Not Allowed\r\n",
		408: "HTTP/1.1 408 Request Timeout\r\n",
		411: "HTTP/1.1 411 Length Required\r\n",
		413: "HTTP/1.1 413 Payload Too Large\r\n",
		414: "HTTP/1.1 414 URI Too Long\r\n",
		431: "HTTP/1.1 431 Request Header Fields Too Large\r\n",
		500: "HTTP/1.1 500 Internal Server Error\r\n",
		501: "HTTP/1.1 501 Not Implemented\r\n",
		503: "HTTP/1.1 503 Service Unavailable\r\n",
		505: "HTTP/1.1 505 HTTP Version Not Supported\r\n",
		599: "HTTP/1.1 599 \r\n",
	} {
		if got := string(AppendStatusLine(nil, code)); got != want {
			t.Errorf("AppendStatusLine(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestAppendResponse(t *testing.T) {
	var dst []byte
	dst = AppendStatusLine(dst, 200)
	dst = AppendHeader(dst, "Content-Type", "text/plain; charset=UTF-8")
	dst = AppendContentLength(dst, 2)
	dst = AppendHeaderBytes(dst, "Access-Control-Allow-Origin", []byte("http://localhost:8080"))
	dst = AppendDate(dst, time.Date(2025, 11, 26, 3, 24, 5, 0, time.FixedZone("x", 3600)))
	dst = append(dst, "\r\nok"...)
	want := "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 2\r\n" +
		"Access-Control-Allow-Origin: http://localhost:8080\r\nDate: Wed, 26 Nov 2025 02:24:05 GMT\r\n\r\nok"
	if string(dst) != want {
		t.Fatalf("got %q\nwant %q", dst, want)
	}
	if TimeFormat != http.TimeFormat {
		t.Fatal("TimeFormat differs from net/http")
	}
	// Node's socketOnError responses, byte for byte.
	if got := string(AppendErrorResponse(nil, StatusFor(ErrMalformed))); got != "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n" {
		t.Fatalf("400: %q", got)
	}
	if got := string(AppendErrorResponse(nil, StatusFor(ErrHeadTooLarge))); got != "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n" {
		t.Fatalf("431: %q", got)
	}
}

func TestResponseNoAlloc(t *testing.T) {
	dst := make([]byte, 0, 512)
	origin := []byte("http://localhost:8080")
	now := time.Now()
	allocs.MustNotAllocate(t, func() {
		b := AppendStatusLine(dst[:0], 200)
		b = AppendHeader(b, "Content-Type", "text/plain; charset=UTF-8")
		b = AppendHeaderBytes(b, "Access-Control-Allow-Origin", origin)
		b = AppendContentLength(b, 123456)
		b = AppendDate(b, now)
		b = AppendErrorResponse(b, 431)
		_ = StatusFor(ErrMalformed)
	})
}
