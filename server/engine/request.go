package engine

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/riptide-io/riptide/server/http1"
)

// Request is the handshake request of a session, kept for the session's lifetime.
//
// It holds one copy of the raw request head (a few hundred bytes) and parses it again on
// demand, so an idle session pays for no header map. All methods are safe for concurrent use;
// those that return maps allocate.
type Request struct {
	head       []byte
	remoteAddr string
	time       time.Time
}

var scratchPool = sync.Pool{New: func() any { return new(http1.Request) }}

func newRequest(head []byte, remoteAddr string, now time.Time) *Request {
	return &Request{head: compactHead(head), remoteAddr: remoteAddr, time: now}
}

// dropped are the handshake headers nobody asks about once the connection is up; leaving
// them out of the kept copy saves about a hundred bytes per idle WebSocket session.
var dropped = []string{"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "upgrade", "connection"}

// compactHead copies the request head without the dropped header lines.
func compactHead(head []byte) []byte {
	out := make([]byte, 0, len(head))
	for len(head) > 0 {
		i := bytes.Index(head, []byte("\r\n"))
		if i < 0 {
			return append(out, head...)
		}
		line := head[:i+2]
		head = head[i+2:]
		if colon := bytes.IndexByte(line, ':'); colon > 0 && isDropped(line[:colon]) {
			continue
		}
		out = append(out, line...)
	}
	return bytes.Clone(out) // exact size: the over-allocated buffer is not kept
}

func isDropped(name []byte) bool {
	for _, d := range dropped {
		if len(name) == len(d) && strings.EqualFold(string(name), d) {
			return true
		}
	}
	return false
}

// with parses the head into a pooled scratch and calls f; the slices in r are valid only in f.
func (q *Request) with(f func(r *http1.Request)) {
	r := scratchPool.Get().(*http1.Request)
	r.Reset()
	if _, err := http1.Parse(q.head, r, len(q.head)); err == nil {
		f(r)
	}
	scratchPool.Put(r)
}

// Method returns the request method.
func (q *Request) Method() (m string) {
	q.with(func(r *http1.Request) { m = string(r.Method) })
	return
}

// URL returns the request target as sent (path and query).
func (q *Request) URL() (u string) {
	q.with(func(r *http1.Request) { u = string(r.Target) })
	return
}

// Header returns the first value of the named header (case-insensitive), or "".
func (q *Request) Header(name string) (v string) {
	q.with(func(r *http1.Request) { v = string(r.HeaderValue(name)) })
	return
}

// Headers returns all headers as an http.Header (allocates).
func (q *Request) Headers() http.Header {
	h := http.Header{}
	q.with(func(r *http1.Request) {
		for _, kv := range r.Headers {
			h.Add(string(kv.Name), string(kv.Value))
		}
	})
	return h
}

// Query returns the parsed query string (allocates).
func (q *Request) Query() url.Values {
	var v url.Values
	q.with(func(r *http1.Request) { v, _ = url.ParseQuery(string(r.RawQuery)) })
	if v == nil {
		v = url.Values{}
	}
	return v
}

// RemoteAddr is the peer's address as host:port (the proxy's, behind HAProxy; see
// Server.ClientAddr and Server.Secure).
func (q *Request) RemoteAddr() string { return q.remoteAddr }

// Time is when the handshake arrived.
func (q *Request) Time() time.Time { return q.time }
