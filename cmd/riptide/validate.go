package main

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riptide-io/riptide/server/tier"
)

// problem is a value that parses but cannot run, or a relation between values that does
// not hold.
type problem struct {
	key string
	msg string
}

// validate checks ranges and relations. Zero durations and sizes are refused rather than
// passed on: the library reads zero as "default", so a configured 0 would silently mean
// something else.
func validate(c *Config) []problem {
	var ps []problem
	bad := func(key, format string, args ...any) {
		ps = append(ps, problem{key, fmt.Sprintf(format, args...)})
	}
	if err := hostPort(c.Listen.Addr); err != nil {
		bad("listen.addr", "%v", err)
	}
	if !strings.HasPrefix(c.Listen.Path, "/") {
		bad("listen.path", "%q must start with /", c.Listen.Path)
	}
	for _, o := range c.Listen.CORSOrigins {
		if err := origin(o); err != nil {
			bad("listen.cors_origins", "%v", err)
		}
	}
	if c.Listen.EventLoops < 0 {
		bad("listen.event_loops", "must be 0 (one per CPU) or more, not %d", c.Listen.EventLoops)
	}
	positive := []struct {
		key string
		d   time.Duration
	}{
		{"listen.header_timeout", c.Listen.HeaderTimeout},
		{"listen.body_timeout", c.Listen.BodyTimeout},
		{"listen.idle_timeout", c.Listen.IdleTimeout},
		{"engine.ping_interval", c.Engine.PingInterval},
		{"engine.ping_timeout", c.Engine.PingTimeout},
		{"engine.upgrade_timeout", c.Engine.UpgradeTimeout},
		{"engine.connect_timeout", c.Engine.ConnectTimeout},
		{"engine.close_timeout", c.Engine.CloseTimeout},
		{"limits.conn_stall_timeout", c.Limits.ConnStallTimeout},
		{"backend.timeout", c.Backend.Timeout},
		{"backend.breaker_cooldown", c.Backend.BreakerCooldown},
		{"webhooks.interval", c.Webhooks.Interval},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad(p.key, "must be more than 0, not %v", p.d)
		}
	}
	l := &c.Limits
	sizes := []struct {
		key string
		n   int
	}{
		{"limits.max_http_buffer_size", l.MaxHTTPBufferSize},
		{"limits.max_header_bytes", l.MaxHeaderBytes},
		{"limits.conn_write_soft_limit", l.ConnWriteSoftLimit},
		{"limits.conn_write_hard_limit", l.ConnWriteHardLimit},
		{"limits.session_write_soft_limit", l.SessionWriteSoftLimit},
		{"limits.session_write_hard_limit", l.SessionWriteHardLimit},
		{"limits.max_pending_events", l.MaxPendingEvents},
	}
	for _, s := range sizes {
		if s.n <= 0 {
			bad(s.key, "must be more than 0, not %d", s.n)
		}
	}
	if l.ConnWriteHardLimit < l.ConnWriteSoftLimit {
		bad("limits.conn_write_hard_limit", "%d is less than limits.conn_write_soft_limit (%d)", l.ConnWriteHardLimit, l.ConnWriteSoftLimit)
	}
	if l.SessionWriteHardLimit < l.SessionWriteSoftLimit {
		bad("limits.session_write_hard_limit", "%d is less than limits.session_write_soft_limit (%d)", l.SessionWriteHardLimit, l.SessionWriteSoftLimit)
	}
	for _, n := range []struct {
		key string
		n   int
	}{
		{"limits.max_connections", l.MaxConnections},
		{"limits.max_connections_per_address", l.MaxConnectionsPerAddr},
		{"limits.max_connections_per_user", l.MaxConnectionsPerUser},
	} {
		if n.n < 0 {
			bad(n.key, "must be 0 (no bound) or more, not %d", n.n)
		}
	}
	if l.IdleTimeout < 0 {
		bad("limits.socket_idle_timeout", "must be 0s (never) or more, not %v", l.IdleTimeout)
	}
	if l.MaxConnectionsPerUser > 0 && !c.Auth.JWT.enabled() {
		bad("limits.max_connections_per_user", "needs auth.jwt: without a token there is no user id")
	}
	if _, err := trustedProxies(c.Listen.TrustedProxies); err != nil {
		bad("listen.trusted_proxies", "%v", err)
	}
	if l.MaxHandlerWorkers < 0 {
		bad("limits.max_handler_workers", "must be 0 (256 x GOMAXPROCS) or more, not %d", l.MaxHandlerWorkers)
	}
	if j := &c.Auth.JWT; j.enabled() {
		if c.Auth.Token != "" {
			bad("auth.token", "a shared token and JWT authentication (auth.jwt) exclude each other: set one")
		}
		if j.Leeway < 0 || j.ExpiryGrace < 0 {
			bad("auth.jwt", "leeway and expiry_grace must not be negative")
		}
		if j.UserClaim == "" {
			bad("auth.jwt.user_claim", "must not be empty")
		}
		if v, err := tier.NewVerifier(jwtConfig(j, nil)); err != nil {
			bad("auth.jwt", "%v", err)
		} else {
			v.Close()
		}
	}
	if c.Redis.URL != "" {
		if err := redisURL(c.Redis.URL); err != nil {
			bad("redis.url", "%v", err)
		}
	}
	if c.Redis.Key == "" {
		bad("redis.key", "must not be empty")
	}
	if d := &c.Drain; d.Delay < 0 {
		bad("drain.delay", "must be 0s (refuse at once) or more, not %v", d.Delay)
	}
	if d := &c.Drain; d.Rate < 0 || math.IsInf(d.Rate, 0) {
		bad("drain.rate", "must be 0 (all at once) or a positive number, not %v", d.Rate)
	}
	if d := &c.Drain; d.Timeout <= d.Delay {
		bad("drain.timeout", "%v leaves no time after drain.delay (%v) to close the connections", d.Timeout, d.Delay)
	}
	if c.Recovery.MaxDisconnectionDuration < time.Second {
		bad("recovery.max_disconnection_duration", "must be at least 1s, not %v", c.Recovery.MaxDisconnectionDuration)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if len(c.Admin.APIKeys) > 0 && c.Admin.Addr == "" {
		bad("admin.api_keys", "needs admin.addr: the server API is served on the admin listener")
	}
	for _, k := range c.Admin.APIKeys {
		if len(k) < 16 {
			bad("admin.api_keys", "a key of %d characters is too easy to guess: use at least 16", len(k))
		}
	}
	if a := c.Admin.Addr; a != "" {
		if err := hostPort(a); err != nil {
			bad("admin.addr", "%v", err)
		} else if samePort(a, c.Listen.Addr) {
			bad("admin.addr", "%q shares its port with listen.addr: the admin listener needs an address of its own", a)
		}
	}
	for _, u := range []struct{ key, url string }{{"backend.url", c.Backend.URL}, {"webhooks.url", c.Webhooks.URL}} {
		if u.url == "" {
			continue
		}
		if p, err := url.Parse(u.url); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(u.key, "%q is not an http:// or https:// URL", u.url)
		}
	}
	if c.Backend.Connect && c.Backend.URL == "" {
		bad("backend.connect", "needs backend.url")
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"backend.max_in_flight", c.Backend.MaxInFlight}, {"backend.max_reply_bytes", c.Backend.MaxReplyBytes},
		{"backend.breaker_failures", c.Backend.BreakerFailures}, {"webhooks.batch", c.Webhooks.Batch}, {"webhooks.queue", c.Webhooks.Queue}} {
		if n.v <= 0 {
			bad(n.key, "must be more than 0, not %d", n.v)
		}
	}
	if c.Webhooks.Retries < 0 {
		bad("webhooks.retries", "must be 0 or more, not %d", c.Webhooks.Retries)
	}
	pc := policyConfig(&c.Policy)
	if c.Backend.URL != "" {
		pc.Backend, _ = tier.NewBackend(tier.BackendConfig{URL: c.Backend.URL})
	}
	if _, err := tier.NewPolicy(pc); err != nil {
		key := "policy"
		switch msg := err.Error(); {
		case strings.HasPrefix(msg, "rooms["):
			key = "policy.rooms"
			err = fmt.Errorf("entry %s", strings.TrimPrefix(msg, "rooms"))
		case strings.HasPrefix(msg, "events["):
			key = "policy.events"
			err = fmt.Errorf("entry %s", strings.TrimPrefix(msg, "events"))
		}
		bad(key, "%v", err)
	}
	if !c.Auth.JWT.enabled() && !c.Backend.Connect {
		for i, r := range c.Policy.Rooms {
			if r.Join == "" || r.Join == "authenticated" || r.Join == "match" || r.Join == "granted" {
				bad("policy.rooms", "entry [%d] (%s): join %q needs auth.jwt or backend.connect: without them no client has an identity (use join: anyone, or server)", i, r.Pattern, cmp.Or(r.Join, "authenticated"))
			}
		}
		for i, e := range c.Policy.Events {
			if e.Permission != "" {
				bad("policy.events", "entry [%d] (%s): permission needs auth.jwt or backend.connect: without them no client has permissions", i, e.Name)
			}
		}
	}
	if c.Policy.MemberTTL < time.Second {
		bad("policy.member_ttl", "must be at least 1s, not %v", c.Policy.MemberTTL)
	}
	if c.Debug.GCPercent < -1 {
		bad("debug.gc_percent", "must be -1 (off) or more, not %d", c.Debug.GCPercent)
	}
	if c.Debug.PprofAddr != "" {
		if err := hostPort(c.Debug.PprofAddr); err != nil {
			bad("debug.pprof_addr", "%v", err)
		}
	}
	validateAdminUI(&c.AdminUI, bad)
	return ps
}

func hostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. \":3000\", \"127.0.0.1:3000\")", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// samePort reports whether two host:port addresses name the same fixed port (port 0 picks
// a free one each time, so it clashes with nothing).
func samePort(a, b string) bool {
	_, pa, errA := net.SplitHostPort(a)
	_, pb, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && pa == pb && pa != "0"
}

// origin checks a CORS origin: "*" or scheme://host[:port], as browsers send it.
func origin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin (scheme://host[:port], e.g. https://app.example.com) or *", o)
	}
	return nil
}

// redisURL checks what the Redis client accepts. Its message never repeats the URL, which
// may hold a password.
func redisURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("does not parse as a URL (redis://[user:password@]host:port[/db])")
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return fmt.Errorf("has no host (redis://[user:password@]host:port[/db])")
		}
	case "unix":
		if u.Path == "" {
			return fmt.Errorf("has no socket path (unix:///path/to/redis.sock)")
		}
	default:
		return fmt.Errorf("scheme %q is not redis, rediss or unix", u.Scheme)
	}
	return nil
}

// trustedProxies parses CIDRs and bare addresses (one host each).
func trustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range list {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an address", v)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
