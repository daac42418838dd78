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
	Headers http.Header     `json:"headers"`
	Query   url.Values      `json:"query"`
	Auth    json.RawMessage `json:"auth"`    // the CONNECT payload; {} when none was sent
	Address string          `json:"address"` // remote address of the TCP peer
	Time    time.Time       `json:"-"`
	Issued  int64           `json:"issued"` // Time in Unix milliseconds
	URL     string          `json:"url"`
	Secure  bool            `json:"secure"`  // TLS, as a trusted proxy's X-Forwarded-Proto says (TLS ends there)
	XDomain bool            `json:"xdomain"` // the request carried an Origin header
}

// HandshakeData implements rooms.Member: the handshake as a JSON value for other nodes.
func (s *Socket) HandshakeData() any { return s.Handshake() }

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
		Secure:  s.client.srv.eng.Secure(r),
	}
	h.XDomain = h.Headers.Get("Origin") != ""
	return h
}

// HandshakeAuth returns the CONNECT payload the socket keeps (Handshake().Auth) without
// building the rest of the handshake. The slice must not be modified.
func (s *Socket) HandshakeAuth() json.RawMessage { return json.RawMessage(s.auth) }

// SetHandshakeAuth replaces the CONNECT payload the socket keeps, as a Node app may assign
// socket.handshake.auth. A middleware that consumed a credential from it (server/tier's JWT
// check) drops it this way, so a connected socket neither holds its token for its whole life
// nor shows it to other nodes through FetchSockets. Call it from a namespace middleware,
// before the socket is connected.
func (s *Socket) SetHandshakeAuth(auth json.RawMessage) { s.auth = auth }
