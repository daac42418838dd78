package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Handshake describes the connection of a socket, as Node's socket.handshake does. It is
// built when asked for (an idle socket keeps only its auth payload and the engine's raw
// request head).
type Handshake struct {
	Headers http.Header
	Query   url.Values
	Auth    json.RawMessage // the CONNECT payload; {} when none was sent
	Address string          // remote address of the TCP peer
	Time    time.Time
	Issued  int64 // Time in Unix milliseconds
	URL     string
	Secure  bool // TLS as told by X-Forwarded-Proto (TLS ends at the proxy)
	XDomain bool // the request carried an Origin header
}

// Handshake returns the socket's handshake data (allocates; call it when needed).
func (s *Socket) Handshake() *Handshake {
	r := s.client.sess.Request()
	h := &Handshake{
		Headers: r.Headers(),
		Query:   r.Query(),
		Auth:    json.RawMessage(s.auth),
		Address: r.RemoteAddr(),
		Time:    r.Time(),
		Issued:  r.Time().UnixMilli(),
		URL:     r.URL(),
		Secure:  r.Secure(),
	}
	h.XDomain = h.Headers.Get("Origin") != ""
	return h
}
