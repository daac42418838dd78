package engine

import (
	"net/netip"
	"strings"
	"time"
)

// Options configure one Engine.IO server. The zero value of every field means the Node
// reference's default (engine.io 6.6), so Options{} behaves like `new Server()` in Node.
type Options struct {
	// Path the server answers on; default "/engine.io/" like Node's engine.io. The Socket.IO
	// layer sets "/socket.io/". A trailing slash is added when missing.
	Path string
	// PingInterval between server pings; default 25 s.
	PingInterval time.Duration
	// PingTimeout: how long after a ping the session waits for the pong; default 20 s.
	PingTimeout time.Duration
	// UpgradeTimeout: how long a probing WebSocket may take to send the upgrade packet; default 10 s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest message (WebSocket) or POST body (polling) accepted, in
	// bytes; default 1e6. It is announced to clients as maxPayload.
	MaxHTTPBufferSize int64
	// Transports allowed; default polling and websocket.
	Transports []Transport
	// DisallowUpgrades turns off polling -> WebSocket upgrades (Node: allowUpgrades=false).
	DisallowUpgrades bool
	// CORS for polling requests; nil means no CORS headers (Node's default, cors: false).
	CORS *CORS
	// Cookie, when set, sends a cookie holding the session id on the handshake (for
	// load-balancer stickiness). Nil: no cookie (Node's default).
	Cookie *Cookie
	// AllowRequest can refuse a handshake: a non-nil error answers HTTP 403 with
	// {"code":4,"message":err.Error()}. It runs on the event loop and must not block.
	AllowRequest func(r *Request) error
	// CloseTimeout bounds how long a server-closed polling session waits for the next GET to
	// deliver its close packet; default 30 s (Node's Polling.closeTimeout).
	CloseTimeout time.Duration
	// WriteSoftLimit: a session with more unsent bytes than this (the client reads slower
	// than it is sent to) gets volatile packets dropped; default 1 MiB.
	WriteSoftLimit int
	// WriteHardLimit: past this many unsent bytes the session is closed, so one slow
	// client cannot grow the server's memory; default 16 MiB (16 max-size messages).
	WriteHardLimit int
	// MaxSessions bounds the server's sessions: a handshake past it gets 503
	// {"code":"CONN_LIMIT_NODE"} before any session state is allocated. 0: no bound.
	MaxSessions int
	// MaxSessionsPerAddress bounds the sessions of one client address (see
	// TrustedProxies): past it a handshake gets 429 {"code":"CONN_LIMIT_ADDRESS"}. 0: no
	// bound.
	MaxSessionsPerAddress int
	// TrustedProxies are the peers (a load balancer's addresses) whose X-Forwarded-For is
	// believed when finding a client's address; from any other peer the header is ignored,
	// since a client could forge it. Empty: the peer's address is the client's.
	TrustedProxies []netip.Prefix
}

// Transport names an Engine.IO transport.
type Transport string

// The transports riptide implements.
const (
	Polling   Transport = "polling"
	WebSocket Transport = "websocket"
)

// CORS mirrors the options of the `cors` npm middleware that engine.io applies.
type CORS struct {
	// Origins allowed: "*" allows any origin (answered as "*" unless Credentials is set,
	// in which case the request's origin is reflected, as browsers require).
	Origins []string
	// AllowOrigin, when set, decides instead of Origins.
	AllowOrigin func(origin string) bool
	// Credentials adds Access-Control-Allow-Credentials: true.
	Credentials bool
	// Methods for preflight answers; default GET,HEAD,PUT,PATCH,POST,DELETE.
	Methods []string
	// AllowedHeaders for preflight answers; default: reflect Access-Control-Request-Headers.
	AllowedHeaders []string
	// ExposedHeaders, if any, for actual responses.
	ExposedHeaders []string
	// MaxAge of a preflight answer; 0 sends no header.
	MaxAge time.Duration
}

// Cookie mirrors engine.io's cookie option (serialized like the `cookie` npm package).
type Cookie struct {
	Name     string // default "io"
	Path     string // default "/"; "-" sends no Path attribute (Node: path: false)
	HTTPOnly *bool  // default true
	SameSite string // default "Lax"; "-" sends none
	Secure   bool
	Domain   string
	MaxAge   time.Duration
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/engine.io/"
	}
	if !strings.HasSuffix(o.Path, "/") {
		o.Path += "/"
	}
	if !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.MaxHTTPBufferSize <= 0 {
		o.MaxHTTPBufferSize = 1e6
	}
	if len(o.Transports) == 0 {
		o.Transports = []Transport{Polling, WebSocket}
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 30 * time.Second
	}
	if o.WriteSoftLimit <= 0 {
		o.WriteSoftLimit = 1 << 20
	}
	if o.WriteHardLimit <= 0 {
		o.WriteHardLimit = 16 << 20
	}
	if o.Cookie != nil {
		c := *o.Cookie
		if c.Name == "" {
			c.Name = "io"
		}
		if c.Path == "" {
			c.Path = "/"
		}
		if c.HTTPOnly == nil {
			t := c.Path != "-"
			c.HTTPOnly = &t
		}
		if c.SameSite == "" {
			c.SameSite = "Lax"
		}
		o.Cookie = &c
	}
	return o
}

func (o *Options) allows(t Transport) bool {
	for _, x := range o.Transports {
		if x == t {
			return true
		}
	}
	return false
}
