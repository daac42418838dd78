package engine

import (
	"bytes"
	"hash/maphash"
	"net"
	"net/netip"
	"sync"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/riptide-io/riptide/internal/jsonstr"
	"github.com/riptide-io/riptide/server/http1"
)

// Refusals: a handshake over MaxSessions or MaxSessionsPerAddress, or one that arrives
// while the server refuses handshakes (RefuseHandshakes), is refused before any session
// state is allocated, with an HTTP status and a JSON body carrying a documented code
// (docs/protocol.md, docs/tier.md).
const (
	// CodeConnLimitNode: the server holds MaxSessions sessions (503).
	CodeConnLimitNode = "CONN_LIMIT_NODE"
	// CodeConnLimitAddress: the client's address holds MaxSessionsPerAddress sessions (429).
	CodeConnLimitAddress = "CONN_LIMIT_ADDRESS"
	// CodeServerDraining: the server is draining before it stops and takes no new
	// sessions; the client should connect to another node (503).
	CodeServerDraining = "SERVER_DRAINING"
)

var refusalMessages = map[string]string{
	CodeConnLimitNode:    "the server is at its connection limit",
	CodeConnLimitAddress: "too many connections from this address",
	CodeServerDraining:   "the server is shutting down: connect to another node",
}

// addrCounts counts the sessions of each client address, for MaxSessionsPerAddress.
type addrCounts struct {
	shards [16]struct {
		mu sync.Mutex
		m  map[netip.Addr]int32
	}
}

var addrSeed = maphash.MakeSeed()

func (a *addrCounts) shard(ip netip.Addr) int {
	b := ip.As16()
	return int(maphash.Bytes(addrSeed, b[:]) % uint64(len(a.shards)))
}

func (a *addrCounts) get(ip netip.Addr) int32 {
	sh := &a.shards[a.shard(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[ip]
}

func (a *addrCounts) add(ip netip.Addr, d int32) {
	sh := &a.shards[a.shard(ip)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = map[netip.Addr]int32{}
	}
	if n := sh.m[ip] + d; n > 0 {
		sh.m[ip] = n
	} else {
		delete(sh.m, ip)
	}
}

// clientAddr is the address a handshake comes from: the peer's, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For entry that is not itself a trusted proxy
// (entries left of it could be forged by the client). The header may come as several
// lines (HAProxy's option forwardfor adds its own line after one the client sent): they
// are one list, in order.
func (o *Options) clientAddr(peer string, h *http1.Request) netip.Addr {
	ip := parseHostAddr(peer)
	if !o.trusted(ip) {
		return ip
	}
	for i := len(h.Headers) - 1; i >= 0; i-- {
		f := &h.Headers[i]
		if !bytes.EqualFold(f.Name, xForwardedFor) {
			continue
		}
		xff := f.Value
		for len(xff) > 0 {
			var entry []byte
			if j := bytes.LastIndexByte(xff, ','); j >= 0 {
				entry, xff = xff[j+1:], xff[:j]
			} else {
				entry, xff = xff, nil
			}
			hop, err := netip.ParseAddr(string(bytes.TrimSpace(entry)))
			if err != nil {
				return ip // a garbled hop: trust nothing left of the last good one
			}
			ip = hop.Unmap()
			if !o.trusted(ip) {
				return ip
			}
		}
	}
	return ip
}

var xForwardedFor = []byte("X-Forwarded-For")

func (o *Options) trusted(ip netip.Addr) bool {
	for _, p := range o.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func parseHostAddr(hostPort string) netip.Addr {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// ClientAddr returns the client address of a handshake request as the server's limits see
// it (see Options.TrustedProxies).
func (srv *Server) ClientAddr(r *Request) netip.Addr {
	var ip netip.Addr
	r.with(func(h *http1.Request) { ip = srv.opts.clientAddr(r.remoteAddr, h) })
	return ip
}

// Secure reports whether the client of a handshake reached the load balancer over TLS
// (riptide itself speaks plain TCP; TLS ends there): the last X-Forwarded-Proto is https
// and the peer is one of Options.TrustedProxies. From any other peer the header is
// ignored, since a client could forge it.
func (srv *Server) Secure(r *Request) bool {
	if !srv.opts.trusted(parseHostAddr(r.remoteAddr)) {
		return false
	}
	secure := false
	r.with(func(h *http1.Request) {
		for i := len(h.Headers) - 1; i >= 0; i-- {
			if f := &h.Headers[i]; bytes.EqualFold(f.Name, xForwardedProto) {
				secure = bytes.EqualFold(bytes.TrimSpace(f.Value), []byte("https"))
				return
			}
		}
	})
	return secure
}

var xForwardedProto = []byte("X-Forwarded-Proto")

// admit checks a handshake against the connection limits. Two handshakes admitted at the
// same moment on different event loops may pass a limit by one each: the bound is exact up
// to the number of event loops.
func (srv *Server) admit(c gnet.Conn, req *http1.Request) (status int, code string) {
	if srv.refusing.Load() {
		return 503, CodeServerDraining
	}
	if max := srv.opts.MaxSessions; max > 0 && srv.Count() >= max {
		return 503, CodeConnLimitNode
	}
	if max := srv.opts.MaxSessionsPerAddress; max > 0 {
		ip := srv.opts.clientAddr(c.RemoteAddr().String(), req)
		if int(srv.addrs.get(ip)) >= max {
			return 429, CodeConnLimitAddress
		}
	}
	return 0, ""
}

// countAddr adds d to the session's address count, when that limit is on.
func (srv *Server) countAddr(s *Session, d int32) {
	if srv.opts.MaxSessionsPerAddress > 0 {
		srv.addrs.add(srv.ClientAddr(s.req), d)
	}
}

// RefuseHandshakes makes the server refuse every new session (refuse true) with HTTP 503
// {"code":"SERVER_DRAINING",...} before any state is allocated, on polling and WebSocket
// alike, or accept them again (false). Sessions already open are untouched: their polls,
// posts and upgrades go on. A draining server calls it once load balancers stopped sending
// it new clients. Safe for concurrent use.
func (srv *Server) RefuseHandshakes(refuse bool) { srv.refusing.Store(refuse) }

// RefusingHandshakes reports whether RefuseHandshakes is in force. Safe for concurrent use.
func (srv *Server) RefusingHandshakes() bool { return srv.refusing.Load() }

// writeRefusal answers a refused handshake, on polling or WebSocket alike, with the status
// and {"code":"...","message":"..."}, and closes the connection.
func writeRefusal(c gnet.Conn, status int, code string, cors []byte) {
	body := bytebufferpool.Get()
	body.B = append(body.B, `{"code":`...)
	body.B = jsonstr.AppendQuote(body.B, code)
	body.B = append(body.B, `,"message":`...)
	body.B = jsonstr.AppendQuote(body.B, refusalMessages[code])
	body.B = append(body.B, '}')
	writeSimple(c, status, "application/json", body.B, false, cors)
	bytebufferpool.Put(body)
}
