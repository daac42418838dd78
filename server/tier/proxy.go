package tier

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/riptide-io/riptide/server"
)

// The proxies: a client event, a connection, or a join is POSTed to the Backend, and its
// JSON reply decides (docs/tier.md, "A backend in any language"). Binary data travels as
// {"$binary": "<standard base64>"} in both directions.

// ProxySocket is the socket a proxied request is about.
type ProxySocket struct {
	ID        string          `json:"id"`
	User      string          `json:"user,omitempty"`
	Claims    json.RawMessage `json:"claims,omitempty"`
	Namespace string          `json:"namespace"`
}

func proxySocket(s *server.Socket, id *Identity) ProxySocket {
	ps := ProxySocket{ID: s.ID(), Namespace: s.Namespace().Name()}
	if id != nil {
		ps.User, ps.Claims = id.User, id.Claims
	}
	return ps
}

// EventRequest is what the event proxy POSTs (X-Riptide-Kind: event).
type EventRequest struct {
	Socket ProxySocket `json:"socket"`
	Event  string      `json:"event"`
	Args   []any       `json:"args"`
	Ack    bool        `json:"ack"` // the client waits for an answer
}

// JoinRequest is what a room pattern with join: proxy POSTs (X-Riptide-Kind: join).
type JoinRequest struct {
	Socket ProxySocket     `json:"socket"`
	Room   string          `json:"room"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// ConnectRequest is what the connect proxy POSTs (X-Riptide-Kind: connect).
type ConnectRequest struct {
	Namespace string            `json:"namespace"`
	Address   string            `json:"address"`
	Headers   map[string]string `json:"headers,omitempty"`
	Query     map[string]string `json:"query,omitempty"`
	Auth      json.RawMessage   `json:"auth,omitempty"`
	User      string            `json:"user,omitempty"`   // with JWT: the verified user
	Claims    json.RawMessage   `json:"claims,omitempty"` // and claims
}

// Reply is a backend's answer to any proxied request; each kind reads its fields.
type Reply struct {
	// Error refuses: the client gets it as a connect_error, in its ack, or as an "error"
	// event. Code: 1 to 64 of A-Z, 0-9 and _, starting with a letter; message: at most 256
	// bytes, shown to the client.
	Error *Error `json:"error,omitempty"`
	// Ack (events): the client's ack arguments, an array (a single value is one argument).
	// Absent: {ok: true}.
	Ack json.RawMessage `json:"ack,omitempty"`
	// Actions (events and connects): what the tier does next, in order.
	Actions []Action2 `json:"actions,omitempty"`
	// Connects: the user id (required without JWT), claims that policies read and
	// FetchSockets shows, data and permissions (stored as the claims "data" and
	// "permissions"), and rooms the socket joins once connected.
	User        string          `json:"user,omitempty"`
	Claims      json.RawMessage `json:"claims,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Permissions []string        `json:"permissions,omitempty"`
	Rooms       []string        `json:"rooms,omitempty"`
}

// Action2 is one action of a backend's reply; set one field.
type Action2 struct {
	Join       string      `json:"join,omitempty"`
	Leave      string      `json:"leave,omitempty"`
	Emit       *EmitAction `json:"emit,omitempty"`
	Disconnect bool        `json:"disconnect,omitempty"`
}

// EmitAction emits an event to rooms (except some), or to the socket itself without rooms.
type EmitAction struct {
	Rooms  []string `json:"rooms,omitempty"`
	Except []string `json:"except,omitempty"`
	Event  string   `json:"event"`
	Args   []any    `json:"args,omitempty"`
}

// call POSTs req and decodes the reply; a refusal from the backend is returned as such.
func callBackend(ctx context.Context, b *Backend, kind string, req any) (*Reply, *Error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, errBackend(BackendError, "encoding the request: %v", err)
	}
	raw, err := b.Call(ctx, kind, body)
	if err != nil {
		return nil, err.(*Error)
	}
	var r Reply
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		b.Failed("reply is not the JSON expected: " + err.Error())
		return nil, errBackend(BackendError, "reply is not the JSON expected: %v", err)
	}
	if r.Error != nil {
		if !validCode(string(r.Error.Code)) || len(r.Error.Message) > 256 {
			return nil, errBackend(BackendError, "reply error code %q is not a code (A-Z, 0-9, _)", r.Error.Code)
		}
		if r.Error.Message == "" {
			r.Error.Message = r.Error.Code.Message()
		}
		return &r, &Error{Code: r.Error.Code, Message: r.Error.Message}
	}
	return &r, nil
}

// validCode reports whether c is a code a backend may send: [A-Z][A-Z0-9_]{0,63}.
func validCode(c string) bool {
	if len(c) == 0 || len(c) > 64 || c[0] < 'A' || c[0] > 'Z' {
		return false
	}
	for i := 1; i < len(c); i++ {
		if !(c[i] >= 'A' && c[i] <= 'Z' || c[i] >= '0' && c[i] <= '9' || c[i] == '_') {
			return false
		}
	}
	return true
}

// proxyEvent runs an event with action proxy: the backend's reply is its ack, or its
// refusal, and its actions run in order.
func (p *Policy) proxyEvent(s *server.Socket, ev *server.Event, id *Identity) *Error {
	args, err := ev.Values()
	if err != nil {
		return errs[EventInvalid]
	}
	if args == nil {
		args = []any{}
	}
	for i := range args {
		args[i] = toWire(args[i])
	}
	req := EventRequest{Socket: proxySocket(s, id), Event: ev.Name, Args: args, Ack: ev.HasAck()}
	r, e := callBackend(context.Background(), p.cfg.Backend, "event", &req)
	if e != nil {
		return e
	}
	if ev.HasAck() {
		if len(r.Ack) == 0 {
			_ = ev.Ack(okArgs)
		} else if vals, err := fromWireArgs(r.Ack); err != nil {
			p.cfg.Backend.Failed("reply ack: " + err.Error())
			return errBackend(BackendError, "reply ack: %v", err)
		} else {
			_ = ev.Ack(vals...)
		}
	}
	p.runActions(s, r.Actions)
	return nil
}

// runActions carries out a backend's actions for s. The backend is trusted: its joins
// bypass the room rules.
func (p *Policy) runActions(s *server.Socket, actions []Action2) {
	for _, a := range actions {
		switch {
		case a.Join != "":
			s.Join(a.Join)
			if p.cfg.Webhooks != nil {
				p.cfg.Webhooks.Joined(s, a.Join)
			}
		case a.Leave != "":
			if p.cfg.Webhooks != nil && s.InRoom(a.Leave) {
				p.cfg.Webhooks.Left(s, a.Leave)
			}
			s.Leave(a.Leave)
		case a.Emit != nil && a.Emit.Event != "" && !server.IsReserved(a.Emit.Event):
			vals := make([]any, len(a.Emit.Args))
			for i, v := range a.Emit.Args {
				vals[i] = fromWire(v)
			}
			if len(a.Emit.Rooms) == 0 {
				_ = s.Emit(a.Emit.Event, vals...)
				continue
			}
			_ = s.Namespace().To(a.Emit.Rooms...).Except(a.Emit.Except...).Emit(a.Emit.Event, vals...)
		case a.Disconnect:
			s.Disconnect(false)
		}
	}
}

// proxyJoin asks the backend whether s may join room (join: proxy).
func (p *Policy) proxyJoin(s *server.Socket, room string, data []byte, id *Identity) *Error {
	req := JoinRequest{Socket: proxySocket(s, id), Room: room, Data: data}
	_, e := callBackend(context.Background(), p.cfg.Backend, "join", &req)
	return e
}

// toWire turns the []byte of decoded arguments into {"$binary": base64}.
func toWire(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]string{"$binary": base64.StdEncoding.EncodeToString(x)}
	case []any:
		for i := range x {
			x[i] = toWire(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = toWire(x[k])
		}
	}
	return v
}

// fromWire turns {"$binary": base64} back into []byte (a binary attachment for the client).
func fromWire(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = fromWire(x[i])
		}
	case map[string]any:
		if b64, ok := x["$binary"].(string); ok && len(x) == 1 {
			if b, err := base64.StdEncoding.DecodeString(b64); err == nil {
				return b
			}
		}
		for k := range x {
			x[k] = fromWire(x[k])
		}
	}
	return v
}

// fromWireArgs decodes an ack: an array is the arguments, another value is one argument.
func fromWireArgs(raw json.RawMessage) ([]any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if list, ok := v.([]any); ok {
		for i := range list {
			list[i] = fromWire(list[i])
		}
		return list, nil
	}
	return []any{fromWire(v)}, nil
}

// ConnectProxy asks the backend about each connection (X-Riptide-Kind: connect): its reply
// grants an identity (user id, claims, data, permissions) and rooms to join, or refuses
// with a code the client gets in its connect_error. With Auth installed before it, the
// backend also gets the verified user and claims, and its reply adds to them.
type ConnectProxy struct {
	b       *Backend
	headers []string
}

// NewConnectProxy returns the connect proxy; headers is the allow-list of request headers
// sent to the backend (e.g. Cookie, User-Agent); others are not sent.
func NewConnectProxy(b *Backend, headers []string) *ConnectProxy {
	return &ConnectProxy{b: b, headers: headers}
}

// Install adds the proxy to ns as a connection middleware (after Auth, before Limits). The
// rooms it grants are joined with the connection (see Socket.Join).
func (c *ConnectProxy) Install(ns *server.Namespace) { ns.Use(c.check) }

func (c *ConnectProxy) check(s *server.Socket) error {
	h := s.Handshake()
	req := ConnectRequest{Namespace: s.Namespace().Name(), Address: h.Address, Auth: s.HandshakeAuth()}
	for _, name := range c.headers {
		if v := h.Headers.Get(name); v != "" {
			if req.Headers == nil {
				req.Headers = map[string]string{}
			}
			req.Headers[name] = v
		}
	}
	for k, vs := range h.Query {
		if k == "EIO" || k == "transport" || k == "sid" || k == "t" || len(vs) == 0 {
			continue
		}
		if req.Query == nil {
			req.Query = map[string]string{}
		}
		req.Query[k] = vs[0]
	}
	id := IdentityOf(s)
	if id != nil {
		req.User, req.Claims = id.User, id.Claims
	}
	r, e := callBackend(context.Background(), c.b, "connect", &req)
	if e != nil {
		return connectError(e)
	}
	if r.User == "" && id == nil {
		c.b.Failed("connect reply without a user")
		return connectError(errBackend(BackendError, "connect reply without a user"))
	}
	claims, err := mergeClaims(req.Claims, r)
	if err != nil {
		c.b.Failed("connect reply claims: " + err.Error())
		return connectError(errBackend(BackendError, "connect reply claims: %v", err))
	}
	if id == nil {
		id = &Identity{}
		s.SetData(id)
	}
	if r.User != "" {
		id.User = r.User
	}
	id.Claims = claims
	s.Join(r.Rooms...)
	return nil
}

// mergeClaims lays the reply's claims, data and permissions over the token's claims.
func mergeClaims(base json.RawMessage, r *Reply) (json.RawMessage, error) {
	if len(r.Claims) == 0 && len(r.Data) == 0 && r.Permissions == nil {
		return base, nil
	}
	m := map[string]json.RawMessage{}
	if len(base) > 0 {
		if err := json.Unmarshal(base, &m); err != nil {
			return nil, err
		}
	}
	if len(r.Claims) > 0 {
		var over map[string]json.RawMessage
		if err := json.Unmarshal(r.Claims, &over); err != nil {
			return nil, fmt.Errorf("claims must be an object")
		}
		for k, v := range over {
			m[k] = v
		}
	}
	if len(r.Data) > 0 {
		m["data"] = r.Data
	}
	if r.Permissions != nil {
		b, _ := json.Marshal(r.Permissions)
		m["permissions"] = b
	}
	return json.Marshal(m)
}
