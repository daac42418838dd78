package main

import (
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
	Listen ListenConfig
	Engine EngineConfig
	Limits LimitsConfig
	Auth   AuthConfig
	Redis  RedisConfig
	Admin  AdminConfig
	Log    LogConfig
	Debug  DebugConfig
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

// RedisConfig is cluster membership through Redis.
type RedisConfig struct {
	URL     string
	Key     string
	Sharded bool
}

// AdminConfig is the admin listener: metrics and health checks for the operator.
type AdminConfig struct {
	Addr string
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
	{"redis", "Cluster membership through Redis (docs/cluster.md). An empty url runs a single node with rooms in memory."},
	{"admin", "The admin listener: Prometheus metrics (GET /metrics) and the health checks, on an address of its own (docs/operations.md)."},
	{"log", "The process log, on stderr."},
	{"debug", "Runtime and profiling knobs."},
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
	return []*option{
		{key: "listen.addr", def: ":3000", val: (*strVal)(&l.Addr),
			help: "Address to listen on, host:port (port 0 picks a free one)."},
		{key: "listen.path", def: "/socket.io/", val: (*strVal)(&l.Path),
			help: "HTTP path of the Engine.IO endpoint."},
		{key: "listen.cors_origins", flag: "cors-origin", def: "", val: (*listVal)(&l.CORSOrigins),
			help: `Origins allowed by CORS on polling requests, with credentials; "*" allows any. Empty: no CORS headers (browsers on other origins must use WebSocket). In flags and the environment: comma-separated.`},
		{key: "listen.event_loops", def: "0", val: (*intVal)(&l.EventLoops),
			help: "Number of event loops; 0: one per CPU."},
		{key: "listen.trusted_proxies", def: "", val: (*listVal)(&l.TrustedProxies),
			help: "Load balancers whose X-Forwarded-For header is believed (CIDRs or addresses, e.g. 10.0.0.0/8); from any other peer the header is ignored. In flags and the environment: comma-separated."},
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

		{key: "redis.url", flag: "redis", def: "", val: (*strVal)(&c.Redis.URL), secret: redactURL,
			help: "Join a cluster through this Redis: redis://[user:password@]host:port[/db], rediss:// for TLS, unix://path. Empty: single node."},
		{key: "redis.key", flag: "redis-key", def: "socket.io", val: (*strVal)(&c.Redis.Key),
			help: "Channel prefix of the cluster (the Node adapter's key option)."},
		{key: "redis.sharded", flag: "redis-sharded", def: "false", val: (*boolVal)(&c.Redis.Sharded),
			help: "Use Redis 7 sharded pub/sub (createShardedAdapter's format)."},

		{key: "admin.addr", flag: "admin-addr", def: "", val: (*strVal)(&c.Admin.Addr),
			help: "Serve GET /metrics (Prometheus), /healthz and /readyz on this address (e.g. 127.0.0.1:9090), apart from the public port; empty: off. Keep it off the public network."},

		{key: "log.level", flag: "log-level", def: "info", val: (*strVal)(&c.Log.Level),
			help: "debug, info, warn or error."},
		{key: "log.format", flag: "log-format", def: "text", val: (*strVal)(&c.Log.Format),
			help: "text (key=value pairs) or json (one object per line, for log shippers)."},

		{key: "debug.gc_percent", def: "50", val: (*intVal)(&c.Debug.GCPercent),
			help: "Go GC target (GOGC; -1 turns the collector off). Idle sockets are long-lived, so a lower target than Go's 100 keeps RSS near the live heap. The GOGC environment variable wins when set."},
		{key: "debug.pprof_addr", flag: "pprof", def: "", val: (*strVal)(&c.Debug.PprofAddr),
			help: "Serve net/http/pprof on this address (e.g. 127.0.0.1:6060); empty: off. Never expose it publicly."},
	}
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
