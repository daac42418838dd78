package tier

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/internal/deadline"
)

// Identity is what a verified token proves about a socket. It is the socket's data
// (Socket.Data), so FetchSockets shows it on every node of a cluster as
// {"user":..., "exp":..., "claims":...}.
//
// It stays small because every connected socket holds one: the user id, exp, and the
// claims JSON only with JWTConfig.KeepClaims. Read it with IdentityOf; do not replace the
// socket's data with SetData (the expiry timer lives in it).
type Identity struct {
	User   string          `json:"user"`
	Exp    int64           `json:"exp,omitempty"`    // unix seconds; 0 when the token has no exp
	Claims json.RawMessage `json:"claims,omitempty"` // the token's claims, with KeepClaims

	s     *server.Socket
	v     *Verifier
	tries uint8 // expiry retries while the socket was not connected yet
	timer deadline.Timer
}

// IdentityOf returns the identity of a socket on this node that passed Auth, or nil.
func IdentityOf(s *server.Socket) *Identity {
	id, _ := s.Data().(*Identity)
	return id
}

// RemoteIdentity returns the identity of a socket returned by FetchSockets, on this node
// or another one (whose data arrives as the JSON the other node wrote), or nil when the
// socket has none.
func RemoteIdentity(r *server.RemoteSocket) *Identity {
	var raw []byte
	switch d := r.Data.(type) {
	case *Identity:
		return d
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		return nil
	}
	id := &Identity{}
	if json.Unmarshal(raw, id) != nil || id.User == "" {
		return nil
	}
	return id
}

// attach makes id the socket's data and arms its expiry. The timer is stopped when the
// socket disconnects, so a socket that leaves early is not held until its exp.
func (v *Verifier) attach(s *server.Socket, id *Identity) {
	id.s, id.v = s, v
	s.SetData(id)
	if id.Exp == 0 {
		return
	}
	id.timer.Init(id)
	v.wheel.Schedule(&id.timer, time.Unix(id.Exp, 0).Add(v.cfg.Leeway+v.cfg.ExpiryGrace))
	v.hook(s.Namespace())
}

// hook stops the expiry timers of ns's sockets as they disconnect, with one namespace-level
// listener instead of one per socket (a per-socket listener costs every idle socket its
// listener's storage, about 180 bytes). It is registered by the first socket of ns to pass
// Auth, before that socket is connected.
func (v *Verifier) hook(ns *server.Namespace) {
	if _, done := v.hooked.LoadOrStore(ns, struct{}{}); done {
		return
	}
	ns.OnDisconnect(func(s *server.Socket, _ server.DisconnectReason) {
		if id, ok := s.Data().(*Identity); ok && id.v == v {
			v.wheel.Stop(&id.timer)
		}
	})
}

// expiryRetry and maxExpiryRetries: the middleware arms the timer before the socket is
// connected, so a token expiring within milliseconds can fire first; the timer then
// retries for up to a second. A socket whose connection never completed is given up.
const (
	expiryRetry      = 50 * time.Millisecond
	maxExpiryRetries = 20
)

// Fire implements deadline.Firer: the token expired while connected. It runs on the
// wheel's goroutine; Emit and Disconnect only queue packets.
func (id *Identity) Fire(now time.Time) {
	if !id.s.Connected() {
		if id.tries < maxExpiryRetries {
			id.tries++
			id.v.wheel.Schedule(&id.timer, now.Add(expiryRetry))
		}
		return
	}
	_ = id.s.Emit("error", counted(AuthTokenExpired))
	id.s.Disconnect(false)
}

// claims decodes what a Verifier checks: the registered claims (through golang-jwt's
// types, so its validator applies them) and the user-id claim.
type claims struct {
	jwt.RegisteredClaims
	cfg  *JWTConfig
	user string
	raw  json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler: golang-jwt decodes the payload into claims.
func (c *claims) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.RegisteredClaims); err != nil {
		return err
	}
	if c.cfg.UserClaim == "sub" {
		c.user = c.Subject
	} else if v, ok := sio.ObjectField(b, c.cfg.UserClaim); ok && len(v) > 0 {
		switch {
		case v[0] == '"':
			if u, err := sio.AppendUnquote(nil, v); err == nil {
				c.user = string(u)
			}
		case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
			if _, err := strconv.ParseFloat(string(v), 64); err == nil {
				c.user = string(v)
			}
		}
	}
	if c.cfg.KeepClaims {
		c.raw = bytes.Clone(b)
	}
	return nil
}

// Validate implements jwt.ClaimsValidator: the configured issuer and audience, and the
// user claim. One fault is reported, in that order.
func (c *claims) Validate() error {
	if c.cfg.Issuer != "" && c.Issuer != c.cfg.Issuer {
		return errs[AuthIssuerInvalid]
	}
	if c.cfg.Audience != "" && !slices.Contains(c.Audience, c.cfg.Audience) {
		return errs[AuthAudienceInvalid]
	}
	if c.user == "" {
		return errs[AuthClaimMissing]
	}
	return nil
}
