package adminui

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// counters aggregate the traffic between two "server_stats", as the Node package's event
// buffer does, but with atomic adds instead of a map update per packet.
type counters struct {
	connections          atomic.Int64
	packetsIn, bytesIn   atomic.Int64
	packetsOut, bytesOut atomic.Int64
	mu                   sync.Mutex
	disconnections       map[server.DisconnectReason]int64 // a handful of reasons
}

func (c *counters) disconnected(reason server.DisconnectReason) {
	c.mu.Lock()
	if c.disconnections == nil {
		c.disconnections = map[server.DisconnectReason]int64{}
	}
	c.disconnections[reason]++
	c.mu.Unlock()
}

// aggregatedEvent is one entry of "aggregatedEvents": count events of a type (and subtype)
// in the second starting at timestamp (Unix milliseconds).
type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     int64  `json:"count"`
}

// take returns the counts since the last take, stamped with the current second, and zeroes
// them.
func (c *counters) take() []aggregatedEvent {
	ts := time.Now().Truncate(time.Second).UnixMilli()
	out := make([]aggregatedEvent, 0, 8)
	add := func(typ, sub string, n int64) {
		if n > 0 {
			out = append(out, aggregatedEvent{Timestamp: ts, Type: typ, SubType: sub, Count: n})
		}
	}
	add("rawConnection", "", c.connections.Swap(0))
	add("packetsIn", "", c.packetsIn.Swap(0))
	add("bytesIn", "", c.bytesIn.Swap(0))
	add("packetsOut", "", c.packetsOut.Swap(0))
	add("bytesOut", "", c.bytesOut.Swap(0))
	c.mu.Lock()
	for r, n := range c.disconnections {
		add("rawDisconnection", string(r), n)
	}
	clear(c.disconnections)
	c.mu.Unlock()
	return out
}

// namespaceStats is one entry of "namespaces".
type namespaceStats struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

// serverStats is the payload of "server_stats".
type serverStats struct {
	ServerID            string            `json:"serverId"`
	Hostname            string            `json:"hostname"`
	PID                 int               `json:"pid"`
	Uptime              float64           `json:"uptime"` // seconds
	ClientsCount        int               `json:"clientsCount"`
	PollingClientsCount int               `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent `json:"aggregatedEvents"`
	Namespaces          []namespaceStats  `json:"namespaces"`
}

// stats builds this node's statistics. The polling clients are counted by walking the
// sessions, once per interval and only while watched, rather than tracked per session.
func (u *UI) stats() *serverStats {
	st := &serverStats{
		ServerID: u.cfg.ServerID, Hostname: u.hostname, PID: os.Getpid(),
		Uptime:           time.Since(processStart).Seconds(),
		ClientsCount:     u.io.Engine().Count(),
		AggregatedEvents: u.traffic.take(),
	}
	u.io.Engine().Range(func(s *engine.Session) bool {
		if s.Transport() == engine.Polling {
			st.PollingClientsCount++
		}
		return true
	})
	for _, n := range u.io.Namespaces() {
		st.Namespaces = append(st.Namespaces, namespaceStats{Name: n.Name(), SocketsCount: n.Count()})
	}
	return st
}

// emitStats sends this node's statistics to every UI, on any node.
func (u *UI) emitStats() {
	if err := u.nsp.Emit("server_stats", u.stats()); err != nil {
		u.log.Debug("adminui: server_stats", "err", err)
	}
}
