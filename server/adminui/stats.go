package adminui

import (
	"os"
	"sync"
	"time"

	"github.com/riptide-io/riptide/server/engine"
)

// traffic turns the engine's cumulative counters (server/engine's Stats) into what happened
// since the last "server_stats", as the Node package's event buffer reports it. Nothing is
// counted for the UI: the engine counts anyway, for the metrics.
type traffic struct {
	mu   sync.Mutex
	last trafficCounts
}

// trafficCounts is one reading of the engine's counters.
type trafficCounts struct {
	connections uint64
	closed      [len(engine.Stats{}.Closed)]uint64 // by engine.CloseReason
	packetsIn   uint64
	bytesIn     uint64
	packetsOut  uint64
	bytesOut    uint64
}

func read(st *engine.Stats) trafficCounts {
	c := trafficCounts{
		connections: uint64(st.HandshakesPolling.Load() + st.HandshakesWebSocket.Load()),
		packetsIn:   st.PacketsIn.Load(), bytesIn: st.BytesIn.Load(),
		packetsOut: st.PacketsOut.Load(), bytesOut: st.BytesOut.Load(),
	}
	for i := range c.closed {
		c.closed[i] = uint64(st.Closed[i].Load())
	}
	return c
}

// aggregatedEvent is one entry of "aggregatedEvents": count events of a type (and subtype)
// in the second starting at timestamp (Unix milliseconds).
type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     uint64 `json:"count"`
}

// take returns what the counters gained since the last take (or reset), stamped with the
// current second.
func (t *traffic) take(st *engine.Stats) []aggregatedEvent {
	now := read(st)
	t.mu.Lock()
	last := t.last
	t.last = now
	t.mu.Unlock()
	ts := time.Now().Truncate(time.Second).UnixMilli()
	out := make([]aggregatedEvent, 0, 8)
	add := func(typ, sub string, cur, prev uint64) {
		if cur > prev {
			out = append(out, aggregatedEvent{Timestamp: ts, Type: typ, SubType: sub, Count: cur - prev})
		}
	}
	add("rawConnection", "", now.connections, last.connections)
	for i := range now.closed {
		add("rawDisconnection", engine.CloseReason(i).String(), now.closed[i], last.closed[i])
	}
	add("packetsIn", "", now.packetsIn, last.packetsIn)
	add("bytesIn", "", now.bytesIn, last.bytesIn)
	add("packetsOut", "", now.packetsOut, last.packetsOut)
	add("bytesOut", "", now.bytesOut, last.bytesOut)
	return out
}

// reset starts counting from now: what came before belongs to no report.
func (t *traffic) reset(st *engine.Stats) {
	now := read(st)
	t.mu.Lock()
	t.last = now
	t.mu.Unlock()
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

// stats builds this node's statistics.
func (u *UI) stats() *serverStats {
	eng := u.io.Engine()
	clients := eng.Count()
	st := &serverStats{
		ServerID: u.cfg.ServerID, Hostname: u.hostname, PID: os.Getpid(),
		Uptime:              time.Since(processStart).Seconds(),
		ClientsCount:        clients,
		PollingClientsCount: max(0, clients-int(eng.Stats().WebSockets.Load())),
		AggregatedEvents:    u.traffic.take(eng.Stats()),
	}
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
