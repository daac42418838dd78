package http1

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

var benchCases = []string{"node-polling-get", "node-polling-post", "node-ws-upgrade",
	"chrome-polling-get", "chrome-preflight", "chrome-ws-upgrade", "firefox-ws-upgrade", "curl-healthz"}

func benchCase(name string) validCase {
	for _, tc := range validCases {
		if tc.name == name {
			return tc
		}
	}
	panic(name)
}

func BenchmarkParse(b *testing.B) {
	for _, name := range benchCases {
		tc := benchCase(name)
		buf := []byte(tc.in)
		b.Run(name, func(b *testing.B) {
			r := new(Request)
			b.ReportAllocs()
			b.SetBytes(int64(tc.headLen()))
			for b.Loop() {
				if _, err := Parse(buf, r, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseNetHTTP is the reference point: what http.ReadRequest costs
// on the same heads.
func BenchmarkParseNetHTTP(b *testing.B) {
	for _, name := range []string{"node-polling-get", "chrome-ws-upgrade"} {
		tc := benchCase(name)
		b.Run(name, func(b *testing.B) {
			rd := bytes.NewReader(nil)
			br := bufio.NewReader(rd)
			b.ReportAllocs()
			b.SetBytes(int64(tc.headLen()))
			for b.Loop() {
				rd.Reset([]byte(tc.in))
				br.Reset(rd)
				if _, err := http.ReadRequest(br); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDrip is a Chrome head arriving one byte per read: calling Parse on
// every read rescans (quadratic), FindHeadEnd with the scanned offset does not.
func BenchmarkDrip(b *testing.B) {
	buf := []byte(chromeWSUpgrade)
	b.Run("Parse-each-read", func(b *testing.B) {
		r := new(Request)
		b.ReportAllocs()
		for b.Loop() {
			for i := 1; i <= len(buf); i++ {
				_, _ = Parse(buf[:i], r, 0)
			}
		}
	})
	b.Run("FindHeadEnd-then-Parse", func(b *testing.B) {
		r := new(Request)
		b.ReportAllocs()
		for b.Loop() {
			scanned := 0
			for i := 1; i <= len(buf); i++ {
				if FindHeadEnd(buf[:i], scanned) < 0 {
					scanned = i
					continue
				}
				if _, err := Parse(buf[:i], r, 0); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkFindHeadEnd(b *testing.B) {
	buf := []byte(chromePollingGET)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if FindHeadEnd(buf, 0) != len(buf) {
			b.Fatal("wrong end")
		}
	}
}

func BenchmarkQuery(b *testing.B) {
	r := new(Request)
	if _, err := Parse([]byte(chromePollingGET), r, 0); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		eio, _ := r.QueryValue("EIO")
		tr, _ := r.QueryValue("transport")
		sid, _ := r.QueryValue("sid")
		dst, _ = AppendUnescape(dst[:0], sid)
		_, _ = eio, tr
	}
}

func BenchmarkHeaderValue(b *testing.B) {
	r := new(Request)
	if _, err := Parse([]byte(chromeWSUpgrade), r, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.HeaderValue("Sec-WebSocket-Key")
		_ = r.HeaderValue("Origin")
		_ = r.HeaderValue("X-Forwarded-For") // absent: full scan
	}
}

// BenchmarkPollingResponse builds the head of a polling answer as the server will.
func BenchmarkPollingResponse(b *testing.B) {
	dst := make([]byte, 0, 512)
	origin := []byte("http://localhost:8080")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		d := AppendStatusLine(dst[:0], 200)
		d = AppendHeader(d, "Content-Type", "text/plain; charset=UTF-8")
		d = AppendContentLength(d, 103)
		d = AppendHeaderBytes(d, "Access-Control-Allow-Origin", origin)
		d = AppendHeader(d, "Access-Control-Allow-Credentials", "true")
		d = AppendDate(d, now)
		d = append(d, "\r\n"...)
		dst = d
	}
}

// BenchmarkChunked scans and decodes bodies: Node's streamed POST, one 64 KiB
// chunk (the data is skipped, not looked at), and 8-byte chunks (mostly
// framing); "drip" is Node's body arriving one byte per read.
func BenchmarkChunked(b *testing.B) {
	bodies := []struct {
		name string
		in   []byte
	}{
		{"node-streamed", []byte(nodeChunkedBody)},
		{"one-64KiB-chunk", []byte("10000\r\n" + strings.Repeat("x", 64<<10) + "\r\n0\r\n\r\n")},
		{"8-byte-chunks", []byte(strings.Repeat("8\r\n01234567\r\n", 8192) + "0\r\n\r\n")},
	}
	for _, c := range bodies {
		work := bytes.Clone(c.in)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				var st ChunkedState
				done, n, err := st.Scan(c.in, 1<<20)
				if !done || err != nil {
					b.Fatal(done, err)
				}
				copy(work, c.in)
				_ = DecodeChunkedInPlace(work[:n])
			}
		})
	}
	b.Run("drip", func(b *testing.B) {
		in := []byte(nodeChunkedBody)
		b.ReportAllocs()
		for b.Loop() {
			var st ChunkedState
			for i := 1; i <= len(in); i++ {
				_, _, _ = st.Scan(in[:i], 1<<20)
			}
		}
	})
}
