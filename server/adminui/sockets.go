package adminui

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/server"
)

// serializedSocket is a socket as the UI shows it (the Node package's SerializedSocket).
type serializedSocket struct {
	ID        string              `json:"id"`
	ClientID  string              `json:"clientId"` // the Engine.IO id, cut to 12 characters as in Node
	Transport string              `json:"transport"`
	Nsp       string              `json:"nsp"`
	Data      json.RawMessage     `json:"data"`
	Handshake serializedHandshake `json:"handshake"`
	Rooms     []string            `json:"rooms"`
}

// serializedHandshake is socket.handshake without auth, which may hold credentials.
type serializedHandshake struct {
	Address string            `json:"address"`
	Headers map[string]string `json:"headers"`
	Query   map[string]any    `json:"query"`
	Issued  int64             `json:"issued"`
	Secure  bool              `json:"secure"`
	Time    string            `json:"time"` // as Node's new Date().toString()
	URL     string            `json:"url"`
	XDomain bool              `json:"xdomain"`
}

var emptyObject = json.RawMessage("{}")

// serialize describes s for the UI, as JSON.
func serialize(s *server.Socket) json.RawMessage {
	h := s.Handshake()
	sock := serializedSocket{
		ID: s.ID(), Nsp: s.Namespace().Name(), Rooms: s.Rooms(),
		Transport: string(s.Conn().Transport()),
		Data:      emptyObject,
		Handshake: serializedHandshake{
			Address: clientAddress(h), Headers: map[string]string{}, Query: map[string]any{},
			Issued: h.Issued, Secure: h.Secure, URL: h.URL, XDomain: h.XDomain,
			Time: h.Time.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"),
		},
	}
	if sock.Rooms == nil {
		sock.Rooms = []string{s.ID()}
	}
	sock.ClientID = s.Conn().ID()
	if len(sock.ClientID) > 12 {
		sock.ClientID = sock.ClientID[:12] // the Node package hides the rest: it is a credential
	}
	if d := s.Data(); d != nil {
		if raw, _, err := sio.AppendValue(nil, nil, d); err == nil && len(raw) > 0 && raw[0] == '{' {
			sock.Data = raw // socket.data is an object in Node; the UI shows its keys
		}
	}
	for k, vs := range h.Headers {
		sock.Handshake.Headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	for k, vs := range h.Query {
		if len(vs) == 1 {
			sock.Handshake.Query[k] = vs[0]
		} else {
			sock.Handshake.Query[k] = vs
		}
	}
	raw, err := json.Marshal(&sock)
	if err != nil {
		return emptyObject
	}
	return raw
}

// clientAddress is what the Node package shows: the address a CDN or proxy reports, else
// the peer's IP.
func clientAddress(h *server.Handshake) string {
	if v := h.Headers.Get("Cf-Connecting-Ip"); v != "" {
		return v
	}
	if v := h.Headers.Get("X-Forwarded-For"); v != "" {
		return v
	}
	if host, _, err := net.SplitHostPort(h.Address); err == nil {
		return host
	}
	return h.Address
}

// localSockets returns this node's sockets, every namespace, as the elements of a JSON array
// (without brackets), at most MaxSockets of them.
func (u *UI) localSockets() []byte {
	var out []byte
	n := 0
	for _, ns := range u.io.Namespaces() {
		rs, _ := ns.Local().FetchSockets()
		for _, r := range rs {
			s := r.Local()
			if s == nil {
				continue
			}
			if n == u.cfg.MaxSockets {
				u.log.Warn("adminui: all_sockets lists only MaxSockets sockets of this node", "max", u.cfg.MaxSockets)
				return out
			}
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, serialize(s)...)
			n++
		}
	}
	return out
}

// onSocketsRequest answers another node's all_sockets request with this node's sockets.
func (u *UI) onSocketsRequest(_ server.Args, ack func(...any)) {
	if ack == nil {
		return
	}
	ack(json.RawMessage(append(append([]byte{'['}, u.localSockets()...), ']')))
}

// allSockets returns every node's sockets as one JSON array: this node's, and what the other
// nodes answer within timeout (a node that does not answer is left out).
func (u *UI) allSockets(timeout time.Duration) json.RawMessage {
	out := append([]byte{'['}, u.localSockets()...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	answers, err := u.nsp.ServerSideEmitWithAck(ctx, evSockets)
	if err != nil {
		u.log.Debug("adminui: sockets of the other nodes", "err", err, "answers", len(answers))
	}
	for _, a := range answers {
		part := bytes.TrimSpace(a.Raw(0))
		if len(part) < 2 || part[0] != '[' || !sio.Valid(part) {
			continue
		}
		inner := bytes.TrimSpace(part[1 : len(part)-1])
		if len(inner) == 0 {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, inner...)
	}
	return append(out, ']')
}

// onAdmin runs for each UI that connected to this node: its session id, the configuration,
// then, unless in production mode, every socket of the cluster.
func (u *UI) onAdmin(s *server.Socket) {
	if u.auth != nil {
		var c credentials
		if json.Unmarshal(s.HandshakeAuth(), &c) == nil && c.SessionID != "" {
			_ = s.Emit("session", c.SessionID)
		}
	}
	_ = s.Emit("config", map[string]any{"supportedFeatures": u.features})
	// Start observing and tell the other nodes before asking for their sockets: what
	// connects from now on reaches the UI through the feed.
	u.setObserving(true)
	u.announce()
	if u.cfg.Production {
		u.emitStats()
		return
	}
	_ = s.Emit("all_sockets", u.allSockets(5*time.Second))
	u.emitStats()
}
