package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of the binary. Its values come, in rising precedence,
// from the declarations' defaults, the config file, RIPTIDE_* environment variables and
// flags (see options and load). Every field is declared once, in options.
type Config struct {
	Listen   ListenConfig
	Engine   EngineConfig
	Limits   LimitsConfig
	Auth     AuthConfig
	Policy   PolicyConfig
	Backend  BackendConfig
	Webhooks WebhooksConfig
	Redis    RedisConfig
	Drain    DrainConfig
	Recovery RecoveryConfig
	Admin    AdminConfig
	Log      LogConfig
	Debug    DebugConfig
	AdminUI  AdminUIConfig
}

// ListenConfig is where and how the binary accepts HTTP connections.
type ListenConfig struct {
	Addr          string
	Path          string
	CORSOrigins   []string
	EventLoops    int
	HeaderTimeout time.Duration
	BodyTimeout   time.Duration
	IdleTimeout   time.Duration
	// TrustedProxies are CIDRs (a bare address is one host) whose X-Forwarded-For is
	// believed for the per-address limit.
	TrustedProxies []string
}

// EngineConfig is the Engine.IO and Socket.IO session protocol.
type EngineConfig struct {
	PingInterval   time.Duration
	PingTimeout    time.Duration
	UpgradeTimeout time.Duration
	ConnectTimeout time.Duration
	CloseTimeout   time.Duration
}

// LimitsConfig bounds what one client can make the server hold. Sizes are bytes.
type LimitsConfig struct {
	MaxHTTPBufferSize     int
	MaxHeaderBytes        int
	ConnWriteSoftLimit    int
	ConnWriteHardLimit    int
	ConnStallTimeout      time.Duration
	SessionWriteSoftLimit int
	SessionWriteHardLimit int
	MaxPendingEvents      int
	MaxHandlerWorkers     int
	MaxConnections        int
	MaxConnectionsPerAddr int
	MaxConnectionsPerUser int
	IdleTimeout           time.Duration
}

// AuthConfig says who may connect.
type AuthConfig struct {
	Token string
	JWT   JWTConfig
}

// JWTConfig is JWT authentication of connections (server/tier's Verifier); it is on when a
// key source is set.
type JWTConfig struct {
	HMACSecret     string
	HMACSecretFile string
	PublicKeyFiles []string
	JWKSURL        string
	Algorithms     []string
	Issuer         string
	Audience       string
	Leeway         time.Duration
	UserClaim      string
	BearerHeader   bool
	QueryParam     string
	ExpiryGrace    time.Duration
}

// enabled reports whether any key source is configured.
func (j *JWTConfig) enabled() bool {
	return j.HMACSecret != "" || j.HMACSecretFile != "" || len(j.PublicKeyFiles) > 0 || j.JWKSURL != ""
}

// PolicyConfig is what connected clients may do: rooms, events and their rates
// (server/tier's Policy). Rooms and Events are lists of rules, JSON in flags and the
// environment.
type PolicyConfig struct {
	Rooms            []RoomRule
	Events           []EventRule
	Strict           bool
	Rate             float64
	Burst            int
	MaxViolations    int
	PermissionsClaim string
	MembersField     string
	MemberTTL        time.Duration
}

// BackendConfig is the application behind the tier (server/tier's Backend): proxied
// events, joins and connections.
type BackendConfig struct {
	URL             string
	Connect         bool
	ConnectHeaders  []string
	Secret          string
	Timeout         time.Duration
	MaxInFlight     int
	MaxReplyBytes   int
	BreakerFailures int
	BreakerCooldown time.Duration
}

// WebhooksConfig is where the tier reports connects, disconnects, joins and leaves.
type WebhooksConfig struct {
	URL      string
	Batch    int
	Interval time.Duration
	Queue    int
	Retries  int
}

// RoomRule is one entry of policy.rooms (tier.RoomRule), as the file spells it.
type RoomRule struct {
	Pattern    string `json:"pattern"`
	Join       string `json:"join,omitempty"`
	Publish    string `json:"publish,omitempty"`
	GrantClaim string `json:"grant_claim,omitempty"`
	MaxMembers int    `json:"max_members,omitempty"`
	Presence   bool   `json:"presence,omitempty"`
}

// EventRule is one entry of policy.events (tier.EventRule), as the file spells it.
type EventRule struct {
	Name       string  `json:"name"`
	Action     string  `json:"action,omitempty"`
	Permission string  `json:"permission,omitempty"`
	MaxPayload int     `json:"max_payload,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Burst      int     `json:"burst,omitempty"`
	RoomField  string  `json:"room_field,omitempty"`
	DataField  string  `json:"data_field,omitempty"`
	Reply      string  `json:"reply,omitempty"`
}

// openRooms is the default room policy: today's open relay, any room for anyone.
const openRooms = `[{"pattern":"*","join":"anyone","publish":"anyone"}]`

// RedisConfig is cluster membership through Redis.
type RedisConfig struct {
	URL     string
	Key     string
	Sharded bool
}

// DrainConfig is how the node leaves service on SIGTERM (drain.go, docs/operations.md).
type DrainConfig struct {
	Delay   time.Duration
	Rate    float64
	Timeout time.Duration
}

// RecoveryConfig is connection state recovery (server.Options.ConnectionStateRecovery):
// in memory on a single node, in Redis (the Redis adapter's Options.Recovery) in a cluster.
type RecoveryConfig struct {
	Enabled                  bool
	MaxDisconnectionDuration time.Duration
}

// AdminConfig is the admin listener: metrics and health checks for the operator.
type AdminConfig struct {
	Addr    string
	APIKeys []string
}

// LogConfig is the process log.
type LogConfig struct {
	Level  string
	Format string
}

// DebugConfig holds runtime and profiling knobs.
type DebugConfig struct {
	GCPercent int
	PprofAddr string
}

// section introduces a group of keys in the file, --help and the docs.
type section struct {
	name string
	help string
}

var sections = []section{
	{"listen", "Where and how riptide accepts HTTP connections (one port serves Engine.IO and the health checks GET /healthz and GET /readyz)."},
	{"engine", "The Engine.IO and Socket.IO session protocol; defaults are the Node reference's."},
	{"limits", "Bounds on what one client can make the server hold. Sizes are in bytes."},
	{"auth", "Who may connect. With no token riptide is open: any client may connect, join any room and publish."},
	{"policy", "What connected clients may do (docs/tier.md): rooms are declared by pattern and a room that matches none is refused; events carry permissions, size and rate limits. A refusal answers the event's ack with {error: {code, message}}, or else sends an \"error\" event {code, message}."},
	{"backend", "The application behind the tier, in any language (docs/tier.md): events with action proxy, rooms with join: proxy and, with connect, every connection are POSTed to url as signed JSON, and its reply decides."},
	{"webhooks", "Connects, disconnects, joins and leaves POSTed to a URL in batches, asynchronously (signed with backend.secret)."},
	{"redis", "Cluster membership through Redis (docs/cluster.md). An empty url runs a single node with rooms in memory."},
	{"drain", "How the node leaves service on SIGTERM, for rolling restarts (docs/operations.md): readiness turns \"draining\" at once, new clients are accepted for delay and then refused with HTTP 503 SERVER_DRAINING, open connections are closed in waves of rate per second, each once its handlers finished and at the transport level so that clients reconnect to another node; then the node leaves the cluster and exits 0."},
	{"recovery", "Connection state recovery: a client whose connection dropped comes back with the same socket id, rooms and data, and gets the room events it missed (socket.recovered is true). With redis.url, across nodes: a client whose node died or drained recovers on another one (docs/cluster.md)."},
	{"admin", "The admin listener: Prometheus metrics (GET /metrics) and the health checks, on an address of its own (docs/operations.md)."},
	{"log", "The process log, on stderr."},
	{"debug", "Runtime and profiling knobs."},
	adminUISection,
}

// option declares one setting: its file key, its flag, its default and its help. The
// environment variable, the --help text, the example files and the docs table all derive
// from it (envName, usage, writeYAML, markdownTable).
type option struct {
	key    string // dotted file key, "section.name"
	flag   string // flag name; default: the key's last part with '-' for '_'
	help   string
	def    string // default, in flag syntax
	secret func(string) string
	val    value
}

// value is a typed setting: parsed from the text a flag, an environment variable or a
// scalar in the file holds, so the three sources agree on syntax and errors.
type value interface {
	set(s string) error
	text() string // flag syntax; parses back with set
	kind() string // what set accepts, for the docs
}

// options declares every setting of c, in the order of the file, --help and the docs.
// Defaults live here and only here: defaults() applies them.
func (c *Config) options() []*option {
	l, e, lim, j := &c.Listen, &c.Engine, &c.Limits, &c.Auth.JWT
	opts := []*option{
		{key: "listen.addr", def: ":3000", val: (*strVal)(&l.Addr),
			help: "Address to listen on, host:port (port 0 picks a free one)."},
		{key: "listen.path", def: "/socket.io/", val: (*strVal)(&l.Path),
			help: "HTTP path of the Engine.IO endpoint."},
		{key: "listen.cors_origins", flag: "cors-origin", def: "", val: (*listVal)(&l.CORSOrigins),
			help: `Origins allowed by CORS on polling requests, with credentials; "*" allows any. Empty: no CORS headers (browsers on other origins must use WebSocket). In flags and the environment: comma-separated.`},
		{key: "listen.event_loops", def: "0", val: (*intVal)(&l.EventLoops),
			help: "Number of event loops; 0: one per CPU."},
		{key: "listen.trusted_proxies", def: "", val: (*listVal)(&l.TrustedProxies),
			help: "Load balancers whose X-Forwarded-For (every line of it, read right to left) and X-Forwarded-Proto headers are believed (CIDRs or addresses, e.g. 10.0.0.0/8); from any other peer they are ignored. In flags and the environment: comma-separated."},
		{key: "listen.header_timeout", def: "1m", val: (*durVal)(&l.HeaderTimeout),
			help: "Time a request head may take to arrive; past it the client gets 408 and the connection closes (Node's headersTimeout)."},
		{key: "listen.body_timeout", def: "5m", val: (*durVal)(&l.BodyTimeout),
			help: "Time a request body may take after its head; past it 408 and close (Node's requestTimeout)."},
		{key: "listen.idle_timeout", def: "5s", val: (*durVal)(&l.IdleTimeout),
			help: "Close a keep-alive connection that starts no new request for this long (Node's keepAliveTimeout). Parked long-polls and WebSockets are not idle."},

		{key: "engine.ping_interval", def: "25s", val: (*durVal)(&e.PingInterval),
			help: "Interval between server pings (pingInterval)."},
		{key: "engine.ping_timeout", def: "20s", val: (*durVal)(&e.PingTimeout),
			help: "How long after a ping the server waits for the pong before closing the session (pingTimeout)."},
		{key: "engine.upgrade_timeout", def: "10s", val: (*durVal)(&e.UpgradeTimeout),
			help: "How long a polling -> WebSocket upgrade may take (upgradeTimeout)."},
		{key: "engine.connect_timeout", def: "45s", val: (*durVal)(&e.ConnectTimeout),
			help: "Close a connection that joins no namespace in time (connectTimeout)."},
		{key: "engine.close_timeout", def: "30s", val: (*durVal)(&e.CloseTimeout),
			help: "How long a server-closed polling session waits for the client's next GET to deliver the close packet."},

		{key: "limits.max_http_buffer_size", def: "1000000", val: (*intVal)(&lim.MaxHTTPBufferSize),
			help: "Largest message (WebSocket) or polling POST body accepted, in bytes; announced to clients as maxPayload (maxHttpBufferSize)."},
		{key: "limits.max_header_bytes", def: "16384", val: (*intVal)(&lim.MaxHeaderBytes),
			help: "Largest HTTP request head, in bytes; a larger one gets 431."},
		{key: "limits.conn_write_soft_limit", def: "1048576", val: (*intVal)(&lim.ConnWriteSoftLimit),
			help: "Unsent bytes on one TCP connection past which riptide stops reading it until the client reads."},
		{key: "limits.conn_write_hard_limit", def: "16777216", val: (*intVal)(&lim.ConnWriteHardLimit),
			help: "Unsent bytes on one TCP connection past which it is closed. At least conn_write_soft_limit."},
		{key: "limits.conn_stall_timeout", def: "20s", val: (*durVal)(&lim.ConnStallTimeout),
			help: "Close a connection that stays over conn_write_soft_limit this long."},
		{key: "limits.session_write_soft_limit", def: "1048576", val: (*intVal)(&lim.SessionWriteSoftLimit),
			help: "Unsent bytes of one session past which its volatile packets are dropped."},
		{key: "limits.session_write_hard_limit", def: "16777216", val: (*intVal)(&lim.SessionWriteHardLimit),
			help: "Unsent bytes of one session past which it is closed, so one slow client cannot grow the server's memory. At least session_write_soft_limit."},
		{key: "limits.max_pending_events", def: "64", val: (*intVal)(&lim.MaxPendingEvents),
			help: "Events a connection may have queued for handlers; at the bound riptide stops reading it until half are handled."},
		{key: "limits.max_connections", def: "0", val: (*intVal)(&lim.MaxConnections),
			help: "Sessions this node accepts; past it a handshake gets HTTP 503 {\"code\":\"CONN_LIMIT_NODE\"} before any state is allocated. 0: no bound."},
		{key: "limits.max_connections_per_address", def: "0", val: (*intVal)(&lim.MaxConnectionsPerAddr),
			help: "Sessions one client address may hold (the peer, or X-Forwarded-For from listen.trusted_proxies); past it HTTP 429 {\"code\":\"CONN_LIMIT_ADDRESS\"}. 0: no bound."},
		{key: "limits.max_connections_per_user", def: "0", val: (*intVal)(&lim.MaxConnectionsPerUser),
			help: "Sockets one user (the JWT's user id) may hold on this node; past it connect_error CONN_LIMIT_USER. 0: no bound. Needs auth.jwt."},
		{key: "limits.socket_idle_timeout", def: "0s", val: (*durVal)(&lim.IdleTimeout),
			help: "Disconnect a socket that sent no event for this long (heartbeats do not count): an \"error\" event IDLE_TIMEOUT, then a server disconnect. 0s: never."},
		{key: "limits.max_handler_workers", def: "0", val: (*intVal)(&lim.MaxHandlerWorkers),
			help: "Goroutines running handlers, shared by all connections; 0: 256 x GOMAXPROCS."},

		{key: "auth.token", flag: "auth-token", def: "", val: (*strVal)(&c.Auth.Token), secret: redactAll,
			help: `When set, clients must connect with auth {"token": <this value>}; others get connect_error "not authorized". Empty: riptide is open.`},
		{key: "auth.jwt.hmac_secret", def: "", val: (*strVal)(&j.HMACSecret), secret: redactAll,
			help: "JWT: shared secret for HS256/384/512 tokens, at least 32 bytes. Setting any auth.jwt key source turns JWT authentication on: clients connect with auth {token: <JWT>}."},
		{key: "auth.jwt.hmac_secret_file", def: "", val: (*strVal)(&j.HMACSecretFile),
			help: "JWT: file holding the shared secret (trailing newlines trimmed)."},
		{key: "auth.jwt.public_key_files", def: "", val: (*listVal)(&j.PublicKeyFiles),
			help: "JWT: PEM files of RSA (2048 bits or more), EC or Ed25519 public keys (RS*, PS*, ES*, EdDSA tokens). In flags and the environment: comma-separated."},
		{key: "auth.jwt.jwks_url", def: "", val: (*strVal)(&j.JWKSURL),
			help: "JWT: JWKS endpoint serving public keys, fetched on first use and on an unknown kid (at most every 10 s); the last good set is kept while it is down."},
		{key: "auth.jwt.algorithms", def: "", val: (*listVal)(&j.Algorithms),
			help: `JWT: algorithms accepted (e.g. RS256,ES256). Empty: every algorithm the configured keys can verify. "none" is never accepted.`},
		{key: "auth.jwt.issuer", def: "", val: (*strVal)(&j.Issuer),
			help: "JWT: when set, a token's iss must equal it."},
		{key: "auth.jwt.audience", def: "", val: (*strVal)(&j.Audience),
			help: "JWT: when set, a token's aud must contain it."},
		{key: "auth.jwt.leeway", def: "0s", val: (*durVal)(&j.Leeway),
			help: "JWT: clock skew tolerated on exp, nbf and iat."},
		{key: "auth.jwt.user_claim", def: "sub", val: (*strVal)(&j.UserClaim),
			help: "JWT: the claim holding the user id."},
		{key: "auth.jwt.bearer_header", def: "false", val: (*boolVal)(&j.BearerHeader),
			help: "JWT: also take the token from the handshake's Authorization: Bearer header (browsers cannot set it on a WebSocket)."},
		{key: "auth.jwt.query_param", def: "", val: (*strVal)(&j.QueryParam),
			help: "JWT: also take the token from this query parameter of the handshake URL (URLs end up in proxy logs). Empty: not from the query."},
		{key: "auth.jwt.expiry_grace", def: "0s", val: (*durVal)(&j.ExpiryGrace),
			help: `JWT: a socket whose token expires while connected gets an "error" event AUTH_TOKEN_EXPIRED and is disconnected at exp + leeway + this.`},

		{key: "policy.rooms", def: openRooms, val: &jsonVal[RoomRule]{v: &c.Policy.Rooms},
			help: `Room rules, first match wins: {pattern ("chat:*", "user:{sub}", "org:{claims.org}:*"), join (anyone, authenticated (default), match: placeholders equal the caller's claims, granted: listed in the grant_claim claim, server: no client), publish (members (default), anyone, none), grant_claim (default "rooms"), max_members (across the cluster; 0: no bound), presence (user-joined / user-left notices and member lists)}. The default lets anyone join and publish to any room; socket id rooms are never joinable. In flags and the environment: JSON.`},
		{key: "policy.events", def: "[]", val: &jsonVal[EventRule]{v: &c.Policy.Events},
			help: `Event rules: {name (or a pattern with *), action (join, leave, publish, or none: ack {ok: true}), permission (listed in the permissions claim), max_payload (bytes), rate and burst (per socket), room_field and data_field (the room and public data of an object argument, e.g. roomId, userData), reply (an event sent back on success, e.g. room-joined)}. The built-in join, leave, publish and ping are always there; a rule named after one sets its checks. In flags and the environment: JSON.`},
		{key: "policy.strict", def: "true", val: (*boolVal)(&c.Policy.Strict),
			help: "Refuse events that match no rule with EVENT_UNKNOWN (deny by default). false: undeclared events are dropped silently."},
		{key: "policy.rate", def: "0", val: (*floatVal)(&c.Policy.Rate),
			help: "Events per second one socket may send, all events together; 0: no bound. Over it: RATE_LIMITED."},
		{key: "policy.burst", def: "0", val: (*intVal)(&c.Policy.Burst),
			help: "Events a socket may send at once above policy.rate."},
		{key: "policy.max_violations", def: "0", val: (*intVal)(&c.Policy.MaxViolations),
			help: "Disconnect a socket after this many RATE_LIMITED refusals; 0: never."},
		{key: "policy.permissions_claim", def: "permissions", val: (*strVal)(&c.Policy.PermissionsClaim),
			help: `The JWT claim listing the caller's permissions: an array of strings, or one space-separated string.`},
		{key: "policy.members_field", def: "members", val: (*strVal)(&c.Policy.MembersField),
			help: `Name of the member list in join answers and presence notices (e.g. "users").`},
		{key: "policy.member_ttl", def: "1m", val: (*durVal)(&c.Policy.MemberTTL),
			help: "With Redis: how long the members a crashed node counted for max_members and presence stay counted (live nodes refresh theirs)."},

		{key: "backend.url", flag: "backend-url", def: "", val: (*strVal)(&c.Backend.URL),
			help: "The backend's endpoint (http:// or https://) for proxied events, joins and connections; the X-Riptide-Kind header says which. Empty: no backend."},
		{key: "backend.connect", flag: "connect-proxy", def: "false", val: (*boolVal)(&c.Backend.Connect),
			help: "Ask the backend about every connection: its reply grants the user id, claims, permissions and rooms, or refuses with a code. Works with auth.jwt (the backend sees the verified claims) or instead of it."},
		{key: "backend.connect_headers", def: "", val: (*listVal)(&c.Backend.ConnectHeaders),
			help: "Request headers sent with connect requests (e.g. Cookie, User-Agent); no other header is. In flags and the environment: comma-separated."},
		{key: "backend.secret", flag: "backend-secret", def: "", val: (*strVal)(&c.Backend.Secret), secret: redactAll,
			help: "Signs every request to the backend and the webhooks: X-Riptide-Signature: v1=hex(HMAC-SHA256(secret, X-Riptide-Timestamp + \".\" + body)). Empty: unsigned."},
		{key: "backend.timeout", flag: "backend-timeout", def: "5s", val: (*durVal)(&c.Backend.Timeout),
			help: "Longest a backend request may take; past it the client gets BACKEND_UNAVAILABLE."},
		{key: "backend.max_in_flight", flag: "backend-max-in-flight", def: "1024", val: (*intVal)(&c.Backend.MaxInFlight),
			help: "Backend requests this node has open at once; past it BACKEND_UNAVAILABLE at once. (One socket has at most one: its events stay in order.)"},
		{key: "backend.max_reply_bytes", flag: "backend-max-reply-bytes", def: "1048576", val: (*intVal)(&c.Backend.MaxReplyBytes),
			help: "Largest reply body accepted from the backend; a larger one is BACKEND_ERROR."},
		{key: "backend.breaker_failures", flag: "backend-breaker-failures", def: "5", val: (*intVal)(&c.Backend.BreakerFailures),
			help: "Consecutive failed requests that open the circuit breaker: the backend is not asked, and clients get BACKEND_UNAVAILABLE at once, for backend.breaker_cooldown; then one request tries again."},
		{key: "backend.breaker_cooldown", flag: "backend-breaker-cooldown", def: "5s", val: (*durVal)(&c.Backend.BreakerCooldown),
			help: "How long an open circuit breaker stays open."},

		{key: "webhooks.url", flag: "webhooks", def: "", val: (*strVal)(&c.Webhooks.URL),
			help: `Where batches {"events": [{type: connect|disconnect|join|leave, time, socket, user, namespace, room, reason, address}]} are POSTed (X-Riptide-Kind: webhook). Empty: off.`},
		{key: "webhooks.batch", flag: "webhooks-batch", def: "100", val: (*intVal)(&c.Webhooks.Batch),
			help: "Events per request at most."},
		{key: "webhooks.interval", flag: "webhooks-interval", def: "1s", val: (*durVal)(&c.Webhooks.Interval),
			help: "The longest an event waits for its batch to fill."},
		{key: "webhooks.queue", flag: "webhooks-queue", def: "10000", val: (*intVal)(&c.Webhooks.Queue),
			help: "Events waiting at most; past it new events are dropped and counted."},
		{key: "webhooks.retries", flag: "webhooks-retries", def: "3", val: (*intVal)(&c.Webhooks.Retries),
			help: "Tries after the first for a failed batch, with backoff from 500ms doubling; then the batch is dropped and counted."},

		{key: "redis.url", flag: "redis", def: "", val: (*strVal)(&c.Redis.URL), secret: redactURL,
			help: "Join a cluster through this Redis: redis://[user:password@]host:port[/db], rediss:// for TLS, unix://path. Empty: single node."},
		{key: "redis.key", flag: "redis-key", def: "socket.io", val: (*strVal)(&c.Redis.Key),
			help: "Channel prefix of the cluster (the Node adapter's key option)."},
		{key: "redis.sharded", flag: "redis-sharded", def: "false", val: (*boolVal)(&c.Redis.Sharded),
			help: "Use Redis 7 sharded pub/sub (createShardedAdapter's format)."},

		{key: "drain.delay", flag: "drain-delay", def: "5s", val: (*durVal)(&c.Drain.Delay),
			help: "How long new clients are still accepted after SIGTERM while readiness reports draining; at least the load balancer's time to take the node out of rotation (HAProxy with deploy/haproxy.cfg: inter + timeout check, 3 s). Then handshakes get HTTP 503 {\"code\":\"SERVER_DRAINING\"}. 0s: refuse at once."},
		{key: "drain.rate", flag: "drain-rate", def: "1000", val: (*floatVal)(&c.Drain.Rate),
			help: "Connections closed per second once drain.delay is over, so their clients reconnect to the other nodes in waves. 0: all at once."},
		{key: "drain.timeout", flag: "drain-timeout", def: "30s", val: (*durVal)(&c.Drain.Timeout),
			help: "Bound on the whole drain, from SIGTERM: connections still open then are closed at once. Leave room for drain.delay plus connections / drain.rate, and keep it under the supervisor's kill timeout (Kubernetes terminationGracePeriodSeconds, systemd TimeoutStopSec)."},
		{key: "recovery.enabled", flag: "recovery", def: "false", val: (*boolVal)(&c.Recovery.Enabled),
			help: "Turn connection state recovery on. It changes the wire as the Node reference does: CONNECT replies carry a pid and stored events an offset as their last argument. A recovered socket goes through the connection middlewares again (auth.jwt re-attaches its identity from the token it reconnects with); its rooms and data come back as they were. In a cluster every node must agree; each room event then costs one more Redis round trip (docs/cluster.md)."},
		{key: "recovery.max_disconnection_duration", def: "2m", val: (*durVal)(&c.Recovery.MaxDisconnectionDuration),
			help: "How long after a drop a client can still recover (maxDisconnectionDuration); events are kept as long."},

		{key: "admin.addr", flag: "admin-addr", def: "", val: (*strVal)(&c.Admin.Addr),
			help: "Serve GET /metrics (Prometheus), /healthz and /readyz on this address (e.g. 127.0.0.1:9090), apart from the public port; empty: off. Keep it off the public network."},
		{key: "admin.api_keys", flag: "api-keys", def: "", val: (*listVal)(&c.Admin.APIKeys), secret: redactAll,
			help: "Keys of the server API (POST /api/emit, /api/join, /api/leave, /api/disconnect, /api/sockets, /api/rooms, /api/batch) and of POST /drain on the admin listener, sent as Authorization: Bearer <key> or X-API-Key. Empty: the API and /drain are refused. In flags and the environment: comma-separated."},

		{key: "log.level", flag: "log-level", def: "info", val: (*strVal)(&c.Log.Level),
			help: "debug, info, warn or error."},
		{key: "log.format", flag: "log-format", def: "text", val: (*strVal)(&c.Log.Format),
			help: "text (key=value pairs) or json (one object per line, for log shippers)."},

		{key: "debug.gc_percent", def: "50", val: (*intVal)(&c.Debug.GCPercent),
			help: "Go GC target (GOGC; -1 turns the collector off). Idle sockets are long-lived, so a lower target than Go's 100 keeps RSS near the live heap. The GOGC environment variable wins when set."},
		{key: "debug.pprof_addr", flag: "pprof", def: "", val: (*strVal)(&c.Debug.PprofAddr),
			help: "Serve net/http/pprof on this address (e.g. 127.0.0.1:6060); empty: off. Never expose it publicly."},
	}
	return append(opts, c.AdminUI.options()...)
}

// defaults returns the configuration with every declared default.
func defaults() *Config {
	c := &Config{}
	for _, o := range c.options() {
		if err := o.val.set(o.def); err != nil {
			panic(fmt.Sprintf("riptide: default of %s: %v", o.key, err)) // a bad declaration
		}
	}
	return c
}

// flagName is the option's flag: declared, or the key's last part with '-' for '_'.
func (o *option) flagName() string {
	if o.flag != "" {
		return o.flag
	}
	return strings.ReplaceAll(o.key[strings.IndexByte(o.key, '.')+1:], "_", "-")
}

// envName is the option's environment variable: RIPTIDE_ and the upper-snake key.
func (o *option) envName() string {
	return "RIPTIDE_" + strings.ToUpper(strings.ReplaceAll(o.key, ".", "_"))
}

// shown is the value as printed by `riptide config`: secrets redacted.
func (o *option) shown() string {
	t := o.val.text()
	if o.secret != nil && t != "" {
		return o.secret(t)
	}
	return t
}

func redactAll(string) string { return "***" }

// redactURL hides the password of a URL (and the whole URL when it does not parse, since
// it may hold one).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "***"
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	// Spliced in by hand: url.UserPassword would escape the stars to %2A.
	u.User = url.User(u.User.Username())
	s := u.String()
	at := strings.Index(s, "@")
	return s[:at] + ":***" + s[at:]
}

type strVal string

func (v *strVal) set(s string) error { *v = strVal(s); return nil }
func (v *strVal) text() string       { return string(*v) }
func (v *strVal) kind() string       { return "string" }

// listVal is a list of strings; flags and the environment write it comma-separated.
type listVal []string

func (v *listVal) set(s string) error {
	*v = nil
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*v = append(*v, x)
		}
	}
	return nil
}
func (v *listVal) text() string { return strings.Join(*v, ",") }
func (v *listVal) kind() string { return "list of strings" }

type intVal int

func (v *intVal) set(s string) error {
	// Decimal only, with TOML's digit separators ("1_000_000"): base 0 would read
	// "064" as octal 52.
	n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 10, strconv.IntSize)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intVal(n)
	return nil
}
func (v *intVal) text() string { return strconv.Itoa(int(*v)) }
func (v *intVal) kind() string { return "integer" }

type floatVal float64

func (v *floatVal) set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != f {
		return fmt.Errorf("%q is not a number", s)
	}
	*v = floatVal(f)
	return nil
}
func (v *floatVal) text() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatVal) kind() string { return "number" }

// jsonVal is a list of objects (rules): JSON text in flags and the environment, a list of
// mappings in the file. Unknown keys of an object are errors that name the entry.
type jsonVal[T any] struct{ v *[]T }

func (j *jsonVal[T]) set(s string) error {
	if strings.TrimSpace(s) == "" {
		*j.v = nil
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return fmt.Errorf("not a JSON list of objects: %v", err)
	}
	out := make([]T, 0, len(items))
	for i, it := range items {
		var t T
		if err := decodeStrict(it, &t); err != nil {
			return fmt.Errorf("entry %d: %v", i, err)
		}
		out = append(out, t)
	}
	*j.v = out
	return nil
}

// decodeStrict decodes one JSON object, refusing keys T does not have.
func decodeStrict(b []byte, t any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(t); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := map[string]string{"float64": "a number", "int": "an integer", "string": "a string", "bool": "true or false"}[te.Type.String()]
			return fmt.Errorf("key %q: want %s, not a %s", te.Field, want, te.Value)
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if strings.HasPrefix(msg, "unknown field ") {
			msg = "unknown key " + strings.TrimPrefix(msg, "unknown field ")
		}
		return errors.New(msg)
	}
	return nil
}

// checkItem decodes one entry, for errors that name its line in the file.
func (j *jsonVal[T]) checkItem(b []byte) error {
	var t T
	return decodeStrict(b, &t)
}

func (j *jsonVal[T]) text() string {
	if len(*j.v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(*j.v)
	return string(b)
}
func (j *jsonVal[T]) kind() string { return "list of objects" }

type boolVal bool

func (v *boolVal) set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a boolean (true or false)", s)
	}
	*v = boolVal(b)
	return nil
}
func (v *boolVal) text() string { return strconv.FormatBool(bool(*v)) }
func (v *boolVal) kind() string { return "boolean" }

// durVal is a Go duration string ("25s", "1m30s"). A bare number is refused rather than
// read as nanoseconds or seconds: either guess would be wrong for someone.
type durVal time.Duration

func (v *durVal) set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. \"25s\")", s)
	}
	*v = durVal(d)
	return nil
}

// text is Go's form without its zero tails: "1m" rather than "1m0s".
func (v *durVal) text() string {
	s := time.Duration(*v).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
func (v *durVal) kind() string { return "duration" }
