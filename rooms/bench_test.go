package rooms

import (
	"fmt"
	"runtime"
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

// One socket that already holds many rooms joins one more and leaves it again: the cost of
// a join and a leave must not grow with the rooms the socket holds (it was a linear scan,
// 100,000 joins took 42.7 s of server CPU). held=1 and held=3 are the common case.
func BenchmarkJoinManyRooms(b *testing.B) {
	for _, held := range []int{1, 3, 1000, 100000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			a := NewMemory(nil, MemoryOptions{})
			m := &counter{id: "owner"}
			a.AddAll(m, []Room{m.id})
			for i := 0; i < held; i++ {
				a.AddAll(m, []Room{fmt.Sprintf("held-%d", i)})
			}
			fresh := make([]Room, 1024)
			for i := range fresh {
				fresh[i] = fmt.Sprintf("fresh-%d", i)
			}
			join := make([]Room, 1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := fresh[i%len(fresh)]
				join[0] = r
				a.AddAll(m, join)
				a.Del(m, r)
			}
		})
	}
}

// The registry's share of an idle client's memory: 10,000 sockets, each in its own id room
// and one room of its own (the bench's idle workload), as live heap per socket. The member
// objects are allocated before the baseline, so only the registry is counted.
func BenchmarkIdleMembers(b *testing.B) {
	const n = 10000
	ms := make([]*counter, n)
	rooms := make([][]Room, n)
	for i := range ms {
		ms[i] = &counter{id: fmt.Sprintf("s%06d", i)}
		rooms[i] = []Room{ms[i].id, fmt.Sprintf("room-%06d", i)}
	}
	b.ReportAllocs()
	var perSocket float64
	for i := 0; i < b.N; i++ {
		before := liveHeap()
		a := NewMemory(nil, MemoryOptions{})
		for j, m := range ms {
			a.AddAll(m, rooms[j])
		}
		perSocket = float64(liveHeap()-before) / n
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perSocket, "heapB/socket")
}

func liveHeap() int64 {
	runtime.GC()
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return int64(st.HeapAlloc)
}
