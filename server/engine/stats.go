package engine

import "sync/atomic"

// Stats counts what a server's sessions did: the counters an operator graphs. Each is
// touched once per session event (open, upgrade, close, refusal) or, for the message
// counters, striped so that event loops on different cores do not share a cache line.
// Safe for concurrent use; read them at scrape time.
type Stats struct {
	// VolatileDropped counts volatile packets dropped because the transport could not
	// take them at once (no pending GET, or a WebSocket over the soft write limit).
	VolatileDropped atomic.Int64
	// SlowClosed counts sessions closed because their unsent data passed the hard limit.
	SlowClosed atomic.Int64

	// HandshakesPolling and HandshakesWebSocket count the sessions opened, by the
	// transport of their handshake.
	HandshakesPolling, HandshakesWebSocket atomic.Int64
	// Upgrades counts sessions moved from polling to WebSocket.
	Upgrades atomic.Int64
	// WebSockets is the number of open sessions on WebSocket; the rest of Count() is on
	// polling (or upgrading).
	WebSockets atomic.Int64
	// RefusedNode, RefusedAddress and RefusedDraining count handshakes refused by
	// MaxSessions (CodeConnLimitNode), MaxSessionsPerAddress (CodeConnLimitAddress) and
	// RefuseHandshakes (CodeServerDraining).
	RefusedNode, RefusedAddress, RefusedDraining atomic.Int64
	// Closed counts the sessions that ended, by CloseReason (Closed[ReasonPingTimeout]...).
	Closed [len(reasonText)]atomic.Int64

	// Message packets (what Socket.IO sends: text, and binary attachments) and their
	// payload bytes, without framing, HTTP heads or heartbeats. Out counts what the
	// session accepted for its client (queued or written); a volatile drop is not out.
	PacketsIn, BytesIn, PacketsOut, BytesOut Counter
}

// ConnStats counts what a Listener did to protect itself from its connections. Safe for
// concurrent use.
type ConnStats struct {
	// ReadStopped counts the times a connection stopped being read: its unread answers
	// passed WriteSoftLimit, or its session was paused by the upper layer.
	ReadStopped atomic.Int64
	// StalledClosed counts connections closed because they did not read their answers:
	// still over WriteSoftLimit after StallTimeout, or over WriteHardLimit.
	StalledClosed atomic.Int64
	// TimedOut counts HTTP connections closed by the header, body or idle timeouts.
	TimedOut atomic.Int64
}

// Stats returns the server's counters.
func (srv *Server) Stats() *Stats { return &srv.stats }

// counterStripes spreads a Counter over this many cache lines.
const counterStripes = 8

// Counter is a monotonic counter striped over cache lines: every event loop counts each
// message it reads, and with one shared word the loops would pass its cache line back and
// forth on every packet. Safe for concurrent use.
type Counter struct {
	stripes [counterStripes]struct {
		n atomic.Uint64
		_ [56]byte // one stripe per 64-byte line
	}
}

// add adds n on the stripe that key picks; callers pass something that differs between
// sessions (a byte of the session id), so sessions on different loops rarely share one.
func (c *Counter) add(key byte, n uint64) { c.stripes[key%counterStripes].n.Add(n) }

// Load returns the sum of the stripes.
func (c *Counter) Load() uint64 {
	var n uint64
	for i := range c.stripes {
		n += c.stripes[i].n.Load()
	}
	return n
}

// countIn records one message packet read from the session's client.
func (s *Session) countIn(size int) {
	k := s.id[0]
	s.srv.stats.PacketsIn.add(k, 1)
	s.srv.stats.BytesIn.add(k, uint64(size))
}

// countOut records packets accepted for the session's client.
func (s *Session) countOut(packets, size int) {
	k := s.id[0]
	s.srv.stats.PacketsOut.add(k, uint64(packets))
	s.srv.stats.BytesOut.add(k, uint64(size))
}

// opened counts a session's handshake.
func (st *Stats) opened(t Transport) {
	if t == WebSocket {
		st.HandshakesWebSocket.Add(1)
		st.WebSockets.Add(1)
		return
	}
	st.HandshakesPolling.Add(1)
}

// closed counts a session's end; t is its transport when it ended.
func (st *Stats) closed(reason CloseReason, t Transport) {
	if int(reason) < len(st.Closed) {
		st.Closed[reason].Add(1)
	}
	if t == WebSocket {
		st.WebSockets.Add(-1)
	}
}

// refused counts a handshake refused by a connection limit.
func (st *Stats) refused(code string) {
	switch code {
	case CodeConnLimitNode:
		st.RefusedNode.Add(1)
	case CodeConnLimitAddress:
		st.RefusedAddress.Add(1)
	case CodeServerDraining:
		st.RefusedDraining.Add(1)
	}
}
