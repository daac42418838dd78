package rooms

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// counter is a member that only counts deliveries.
type counter struct {
	id string
	n  atomic.Int64
}

func (c *counter) ID() SocketID          { return c.id }
func (c *counter) Deliver(*Packet, bool) { c.n.Add(1) }
func (c *counter) Disconnect(bool)       {}
func (c *counter) Data() any             { return nil }
func (c *counter) HandshakeData() any    { return nil }

// countingHost delivers through DeliverAll, as the server does.
type countingHost struct{ n atomic.Int64 }

func (h *countingHost) Name() string                                             { return "/" }
func (h *countingHost) ServerSideEvent([]byte, [][]byte, func([]byte, [][]byte)) {}
func (h *countingHost) DeliverAll(_ *Packet, ms []Member, _ bool)                { h.n.Add(int64(len(ms))) }

func populate(a *Memory, n int, room Room) []*counter {
	ms := make([]*counter, n)
	for i := range ms {
		ms[i] = &counter{id: fmt.Sprintf("s%06d", i)}
		a.AddAll(ms[i], []Room{ms[i].id, room})
	}
	return ms
}

func BenchmarkBroadcastRoom10k(b *testing.B) {
	h := &countingHost{}
	a := NewMemory(h, MemoryOptions{})
	populate(a, 10000, "big")
	p := &Packet{Type: 2, Data: []byte(`["m",1]`), ID: -1}
	opts := &Options{Rooms: []Room{"big"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Broadcast(p, opts)
	}
	b.ReportMetric(float64(h.n.Load())/float64(b.N), "members/op")
}

func BenchmarkBroadcastToSocketID(b *testing.B) {
	h := &countingHost{}
	a := NewMemory(h, MemoryOptions{})
	populate(a, 10000, "big")
	p := &Packet{Type: 2, Data: []byte(`["m",1]`), ID: -1}
	opts := &Options{Rooms: []Room{"s004242"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a.Broadcast(p, opts)
	}
}

func BenchmarkJoinLeave(b *testing.B) {
	a := NewMemory(nil, MemoryOptions{})
	ms := populate(a, 1000, "lobby")
	rooms := make([]Room, 64)
	for i := range rooms {
		rooms[i] = fmt.Sprintf("room-%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := ms[i%len(ms)]
		r := rooms[i%len(rooms)]
		a.AddAll(m, []Room{r})
		a.Del(m, r)
	}
}

// Joins and broadcasts on different rooms from all CPUs: the shards keep them apart.
func BenchmarkParallelJoinBroadcast(b *testing.B) {
	h := &countingHost{}
	a := NewMemory(h, MemoryOptions{})
	ms := populate(a, 4096, "lobby")
	p := &Packet{Type: 2, Data: []byte(`["m"]`), ID: -1}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			i++
			m := ms[i%len(ms)]
			r := Room(m.id + "-r")
			a.AddAll(m, []Room{r})
			a.Broadcast(p, &Options{Rooms: []Room{r}})
			a.Del(m, r)
		}
	})
}
