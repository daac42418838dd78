package server

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/internal/latency"
)

// Stats is a snapshot of the server's counters: the handler machinery, the sockets that
// disconnected, the connections refused, and how long clients take to answer acks. The
// Engine.IO layer's own counters are Engine().Stats(). Each counter is touched once per
// socket, per refusal or per ack, never per packet.
type Stats struct {
	// InputPauses counts the times a connection stopped being read because it had
	// Options.MaxPendingEvents handler tasks queued.
	InputPauses uint64
	// HandlerWorkers is the number of handler goroutines alive (at most
	// Options.MaxHandlerWorkers); IdleWorkers of them wait for work.
	HandlerWorkers, IdleWorkers int
	// WaitingQueues is the number of sockets with handler work waiting for a free worker;
	// DeferredQueues counts the times one had to wait (the worker cap was reached).
	WaitingQueues  int
	DeferredQueues uint64
	// Disconnects counts the sockets that disconnected, by reason (every reason is present,
	// zero or not).
	Disconnects map[DisconnectReason]uint64
	// ConnectRefusals counts the connections to a namespace that got a connect_error (a
	// middleware refused them, or the namespace does not exist), by the "code" of the
	// error's data ({"code": "AUTH_TOKEN_EXPIRED", ...}, as server/tier sends it); "" when
	// the data carries none. Past maxRefusalCodes distinct codes, new ones count as
	// OtherRefusalCode, so a middleware that puts free text in its codes cannot grow this.
	ConnectRefusals map[string]uint64
	// AckLatency is the time from asking a client for an ack (Socket.EmitWithAck,
	// BroadcastOperator.EmitWithAck, a cluster adapter's RegisterAck) to its answer. Acks
	// that time out, or whose socket disconnects first, are not in it.
	AckLatency latency.Snapshot
}

// OtherRefusalCode counts the refusals whose code came after maxRefusalCodes others.
const OtherRefusalCode = "OTHER"

// maxRefusalCodes bounds the distinct codes ConnectRefusals keeps (server/tier has 15).
const maxRefusalCodes = 64

// disconnectReasons indexes counts.disconnects.
var disconnectReasons = [...]DisconnectReason{
	ReasonTransportClose, ReasonTransportError, ReasonPingTimeout, ReasonParseError,
	ReasonForcedClose, ReasonServerDisconnect, ReasonClientDisconnect, ReasonServerShutdown,
	ReasonForcedServerClose,
}

// counts are the server's own counters behind Stats.
type counts struct {
	disconnects [len(disconnectReasons)]atomic.Uint64
	ackLatency  latency.Histogram
	refusalsMu  sync.Mutex
	refusals    map[string]uint64
}

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (s *Server) Stats() Stats {
	p := s.pool.Stats()
	st := Stats{
		InputPauses:    s.inputPauses.Load(),
		HandlerWorkers: p.Workers, IdleWorkers: p.Parked,
		WaitingQueues: p.Runnable, DeferredQueues: p.Deferred,
		Disconnects:     make(map[DisconnectReason]uint64, len(disconnectReasons)),
		ConnectRefusals: map[string]uint64{},
		AckLatency:      s.counts.ackLatency.Snapshot(),
	}
	for i, r := range disconnectReasons {
		st.Disconnects[r] = s.counts.disconnects[i].Load()
	}
	s.counts.refusalsMu.Lock()
	for code, n := range s.counts.refusals {
		st.ConnectRefusals[code] = n
	}
	s.counts.refusalsMu.Unlock()
	return st
}

// countDisconnect counts a socket's disconnect.
func (s *Server) countDisconnect(r DisconnectReason) {
	if i := slices.Index(disconnectReasons[:], r); i >= 0 {
		s.counts.disconnects[i].Add(1)
	}
}

// refused counts and logs a connect_error sent to the client of c for namespace nsp; data is
// the JSON of the error's data, nil when it has none.
func (c *client) refused(nsp string, ce *ConnectError, data []byte) {
	code := c.srv.countRefusal(refusalCode(data))
	c.srv.opts.Logger.Info("connection refused", "nsp", nsp, "code", code, "message", ce.Message,
		"addr", c.srv.eng.ClientAddr(c.sess.Request()), "transport", string(c.sess.Transport()))
}

// countRefusal counts a refusal with code and returns the code it was counted under.
func (s *Server) countRefusal(code string) string {
	cs := &s.counts
	cs.refusalsMu.Lock()
	defer cs.refusalsMu.Unlock()
	if cs.refusals == nil {
		cs.refusals = map[string]uint64{}
	}
	if _, known := cs.refusals[code]; !known && len(cs.refusals) >= maxRefusalCodes {
		code = OtherRefusalCode
	}
	cs.refusals[code]++
	return code
}

// refusalCode is the "code" field of a connect_error's data: a string's text, a number's
// literal, else "".
func refusalCode(data []byte) string {
	v, ok := sio.ObjectField(data, "code")
	switch {
	case !ok || len(v) == 0:
		return ""
	case v[0] == '"':
		b, err := sio.AppendUnquote(nil, v)
		if err != nil {
			return ""
		}
		return string(b)
	case v[0] == '-' || v[0] >= '0' && v[0] <= '9':
		return string(v)
	}
	return ""
}

// Namespaces returns the namespaces clients can connect to (dynamic ones once created, not
// their OfFunc parents), sorted by name. Safe for concurrent use.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Namespace) int { return strings.Compare(a.name, b.name) })
	return out
}

// observeAck records the round trip of an ack asked for at asked (unix nanoseconds).
func (s *Server) observeAck(asked int64) {
	s.counts.ackLatency.Observe(time.Duration(time.Now().UnixNano() - asked))
}
