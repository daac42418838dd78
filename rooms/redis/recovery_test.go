package redis

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms"
)

// sessMember is a socket with a private session id, as the server's Socket.
type sessMember struct {
	*fakeMember
	pid string
}

func (m *sessMember) PID() string { return m.pid }

func recoveryOptions(name string, sharded bool, ro RecoveryOptions) Options {
	o := testOptions(name, sharded)
	o.Recovery = &ro
	return o
}

// recoveryCluster starts two nodes with recovery on, that know each other.
func recoveryCluster(t *testing.T, r *redistest.Server, sharded bool, ro RecoveryOptions) (*node, *node) {
	t.Helper()
	n1 := startNode(t, r, "n1", recoveryOptions("n1", sharded, ro))
	n2 := startNode(t, r, "n2", recoveryOptions("n2", sharded, ro))
	waitFor(t, "membership", func() bool {
		a1, _ := n1.a.Nodes()
		a2, _ := n2.a.Nodes()
		return len(a1) == 1 && len(a2) == 1
	})
	return n1, n2
}

func joinSess(nd *node, id, pid string, rs ...string) *sessMember {
	return joinData(nd, id, pid, nil, rs...)
}

// joinData joins a socket whose data is set (before: the adapter reads it at any time).
func joinData(nd *node, id, pid string, data any, rs ...string) *sessMember {
	m := &sessMember{fakeMember: &fakeMember{id: id, node: nd.name, data: data}, pid: pid}
	nd.a.AddAll(m, append([]string{id}, rs...))
	return m
}

// leave is the server's disconnect: the session is kept for a recoverable reason.
func leave(nd *node, m *sessMember, recoverable bool) {
	if recoverable {
		nd.a.PersistSession(&rooms.Session{SID: m.id, PID: m.pid, Rooms: nd.a.SocketRooms(m.id), Data: m.data})
	}
	nd.a.DelAll(m)
}

func ev(data string) *rooms.Packet { return &rooms.Packet{Type: 2, Data: []byte(data), ID: -1} }

// offsetOf returns the last argument of a delivered event ("2 [...]").
func offsetOf(t *testing.T, delivered string) string {
	t.Helper()
	var args []any
	if err := json.Unmarshal([]byte(delivered[strings.IndexByte(delivered, ' ')+1:]), &args); err != nil || len(args) == 0 {
		t.Fatalf("delivered %q: %v", delivered, err)
	}
	s, _ := args[len(args)-1].(string)
	if _, ok := parseStreamID(s); !ok {
		t.Fatalf("delivered %q: last argument %q is not a stream id", delivered, s)
	}
	return s
}

// withoutOffset strips the last argument of packet data.
func withoutOffset(t *testing.T, data []byte) string {
	t.Helper()
	var args []json.RawMessage
	if err := json.Unmarshal(data, &args); err != nil || len(args) == 0 {
		t.Fatalf("data %q: %v", data, err)
	}
	var s string
	if err := json.Unmarshal(args[len(args)-1], &s); err != nil {
		t.Fatalf("data %q: last argument is not an offset", data)
	}
	b, _ := json.Marshal(args[:len(args)-1])
	return string(b)
}

func sessionKey(pid string) string { return "socket.io-recovery#/#session#" + pid }

// waitKey waits until the session key of pid holds a session with the rooms want, of a
// live socket or (waitPersisted) of one that disconnected.
func waitKey(t *testing.T, r *redistest.Server, pid string, want ...string) {
	t.Helper()
	waitSession(t, r, pid, true, want)
}

func waitPersisted(t *testing.T, r *redistest.Server, pid string, want ...string) {
	t.Helper()
	waitSession(t, r, pid, false, want)
}

func waitSession(t *testing.T, r *redistest.Server, pid string, live bool, want []string) {
	t.Helper()
	waitFor(t, "session of "+pid+" in Redis", func() bool {
		v, _ := r.Do("GET", sessionKey(pid))
		s, node, ok := decodeSession(v)
		return ok && slices.Equal(s.Rooms, want) && (node != "") == live
	})
}

// A socket that dropped on one node is restored on another: id, rooms and data, and the
// room events it missed, from both nodes, in order, once, each with the offset every node
// delivered; not the events for other rooms, those excluding its rooms, volatile ones or
// those with acks. A second restore of the session fails.
func TestRecoveryAcrossNodes(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		n1, n2 := recoveryCluster(t, r, sharded, RecoveryOptions{MaxDisconnectionDuration: 10 * time.Second})
		const sid, other = "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"
		a := joinData(n1, sid, "pid-a", map[string]any{"name": "ana"}, "red", "blue")
		b := joinSess(n2, other, "pid-b", "red")
		waitKey(t, r, "pid-a", sid, "red", "blue")

		n2.a.Broadcast(ev(`["before",1]`), &rooms.Options{Rooms: []string{"red"}})
		waitFor(t, "the first event", func() bool { return len(a.received()) == 1 && len(b.received()) == 1 })
		offset := offsetOf(t, a.received()[0])
		if got := offsetOf(t, b.received()[0]); got != offset {
			t.Fatalf("offsets differ across nodes: %s here, %s there", offset, got)
		}
		leave(n1, a, true)

		// Away: events from both nodes.
		n2.a.Broadcast(ev(`["m1"]`), &rooms.Options{Rooms: []string{"red"}})
		n1.a.Broadcast(ev(`["not-for-a","green"]`), &rooms.Options{Rooms: []string{"green"}})
		n1.a.Broadcast(ev(`["m2",{"k":[1,2]}]`), &rooms.Options{Rooms: []string{"blue"}})
		n2.a.Broadcast(ev(`["not-for-a","except red"]`), &rooms.Options{Except: []string{"red"}})
		n2.a.Broadcast(ev(`["m3","everyone"]`), &rooms.Options{})
		n2.a.Broadcast(ev(`["direct"]`), &rooms.Options{Rooms: []string{sid}})
		n2.a.Broadcast(ev(`["not-for-a","volatile"]`), &rooms.Options{Rooms: []string{"red"}, Flags: rooms.Flags{Volatile: true}})
		n2.a.Broadcast(&rooms.Packet{Type: 2, Data: []byte(`["not-for-a","ack"]`), ID: 7}, &rooms.Options{Rooms: []string{"red"}})
		n1.a.Broadcast(&rooms.Packet{Type: 5, Data: []byte(`["m4",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}, ID: -1},
			&rooms.Options{Rooms: []string{"red", "blue"}, Except: []string{"green"}})
		n2.a.Broadcast(ev(`["not-for-a","except blue"]`), &rooms.Options{Rooms: []string{"red"}, Except: []string{"blue"}})

		waitPersisted(t, r, "pid-a", sid, "red", "blue")
		s, err := n2.a.RestoreSession("pid-a", offset)
		if err != nil || s == nil {
			t.Fatalf("restore: %v %v", s, err)
		}
		if s.SID != sid || s.PID != "pid-a" || !slices.Equal(s.Rooms, []string{sid, "red", "blue"}) {
			t.Fatalf("session %+v", s)
		}
		if d, _ := s.Data.(json.RawMessage); string(d) != `{"name":"ana"}` {
			t.Fatalf("session data %T %s", s.Data, s.Data)
		}
		var got []string
		last, _ := parseStreamID(offset)
		for _, p := range s.MissedPackets {
			got = append(got, fmt.Sprintf("%d %s %x", p.Type, withoutOffset(t, p.Data), p.Attachments))
			id, _ := lastOffset(p.Data)
			if !last.less(id) {
				t.Errorf("offsets not increasing: %v then %v", last, id)
			}
			last = id
		}
		want := []string{`2 ["m1"] []`, `2 ["m2",{"k":[1,2]}] []`, `2 ["m3","everyone"] []`, `2 ["direct"] []`,
			`5 ["m4",{"_placeholder":true,"num":0}] [010203]`}
		if !slices.Equal(got, want) {
			t.Fatalf("missed packets\n%q\nwant\n%q", got, want)
		}
		// What b got live carries the same offsets as what a gets replayed.
		for _, p := range s.MissedPackets {
			if strings.Contains(string(p.Data), `"m1"`) && !slices.Contains(b.received(), "2 "+string(p.Data)) {
				t.Errorf("replayed %s, but b got %q", p.Data, b.received())
			}
		}

		a2 := &sessMember{fakeMember: &fakeMember{id: sid, node: "n2"}, pid: "pid-a"}
		n2.a.AddAll(a2, s.Rooms)
		if s2, err := n2.a.RestoreSession("pid-a", offset); s2 != nil || err != nil {
			t.Fatalf("second restore: %+v %v", s2, err)
		}
		// The restored socket's session is live again, on n2: no one else takes it.
		waitKey(t, r, "pid-a", sid, "red", "blue")
		if s2, err := n1.a.RestoreSession("pid-a", offset); s2 != nil || err != nil {
			t.Fatalf("restore of a live session on another node: %+v %v", s2, err)
		}
		if s2, err := n2.a.RestoreSession("pid-a", offset); s2 != nil || err != nil {
			t.Fatalf("restore of a live session on its node: %+v %v", s2, err)
		}
		n1.a.Broadcast(ev(`["after"]`), &rooms.Options{Rooms: []string{"blue"}})
		waitFor(t, "the event after recovery", func() bool { return len(a2.received()) == 1 })
		time.Sleep(50 * time.Millisecond)
		if got := a2.received(); len(got) != 1 || !strings.HasPrefix(got[0], `2 ["after","`) {
			t.Fatalf("after recovery: %q", got)
		}
		if st := n2.c.Stats(); st.Restored != 1 || st.RestoreRefused != 2 {
			t.Errorf("stats %+v", st)
		}
	})
}

// A node that dies without a word leaves its sockets' sessions behind, as they were at the
// last change of rooms: the client recovers on another node.
func TestRecoveryAfterCrash(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	n1, n2 := recoveryCluster(t, r, false, RecoveryOptions{MaxDisconnectionDuration: 10 * time.Second})
	const sid = "aaaaaaaaaaaaaaaaaaaa"
	a := joinSess(n1, sid, "pid-a", "red", "blue", "green")
	n1.a.Del(a, "green")
	waitKey(t, r, "pid-a", sid, "red", "blue")
	n1.a.Broadcast(ev(`["before"]`), &rooms.Options{Rooms: []string{"red"}})
	waitFor(t, "the first event", func() bool { return len(a.received()) == 1 })
	offset := offsetOf(t, a.received()[0])
	ttl, _ := r.Do("PTTL", sessionKey("pid-a"))
	if ms, _ := strconv.Atoi(ttl); ms < 10000 {
		t.Fatalf("a live session expires in %s ms, before the recovery window", ttl)
	}
	_ = n1.c.Close() // no PersistSession, no DelAll: the node is gone

	n2.a.Broadcast(ev(`["missed"]`), &rooms.Options{Rooms: []string{"blue"}})
	n2.a.Broadcast(ev(`["not-for-a"]`), &rooms.Options{Rooms: []string{"green"}})
	s, err := n2.a.RestoreSession("pid-a", offset)
	if err != nil || s == nil {
		t.Fatalf("restore: %v %v", s, err)
	}
	if !slices.Equal(s.Rooms, []string{sid, "red", "blue"}) || len(s.MissedPackets) != 1 || withoutOffset(t, s.MissedPackets[0].Data) != `["missed"]` {
		t.Fatalf("session %+v, missed %d", s, len(s.MissedPackets))
	}
}

// Sessions are not restored once their window has passed, when the client's offset is no
// longer in the stream, for a socket that left for good, for a made-up offset, or in
// another namespace.
func TestRecoveryRefused(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	n1, n2 := recoveryCluster(t, r, false, RecoveryOptions{MaxDisconnectionDuration: time.Second, MaxLen: 10})
	const sid = "aaaaaaaaaaaaaaaaaaaa"
	first := func(pid string) (*sessMember, string) {
		m := joinSess(n1, sid, pid, "red")
		n2.a.Broadcast(ev(`["x-`+pid+`"]`), &rooms.Options{Rooms: []string{"red"}})
		// Fillers still in flight from the case before may come first.
		var got string
		waitFor(t, "an event for "+pid, func() bool {
			for _, e := range m.received() {
				if strings.HasPrefix(e, `2 ["x-`+pid+`",`) {
					got = e
					return true
				}
			}
			return false
		})
		return m, offsetOf(t, got)
	}

	m, offset := first("expired")
	leave(n1, m, true)
	waitPersisted(t, r, "expired", sid, "red")
	time.Sleep(1200 * time.Millisecond)
	if s, err := n2.a.RestoreSession("expired", offset); s != nil || err != nil {
		t.Errorf("restored after the window: %+v %v", s, err)
	}

	m, offset = first("trimmed")
	leave(n1, m, true)
	waitPersisted(t, r, "trimmed", sid, "red")
	for i := 0; i < 300; i++ { // MAXLEN ~ 10 trims whole stream nodes (100 entries each)
		n2.a.Broadcast(ev(`["filler"]`), &rooms.Options{Rooms: []string{"red"}})
	}
	if n, _ := r.Do("XLEN", "socket.io-recovery#/#stream"); n == "" || len(n) > 3 {
		t.Errorf("stream length %s: not bounded", n)
	}
	if s, err := n2.a.RestoreSession("trimmed", offset); s != nil || err != nil {
		t.Errorf("restored past a trimmed offset: %+v %v", s, err)
	}

	m, offset = first("gone")
	waitKey(t, r, "gone", sid, "red")
	leave(n1, m, false)
	waitFor(t, "the session deleted", func() bool { v, _ := r.Do("EXISTS", sessionKey("gone")); return v == "0" })
	if s, err := n2.a.RestoreSession("gone", offset); s != nil || err != nil {
		t.Errorf("restored a session that left for good: %+v %v", s, err)
	}

	m, offset = first("kept")
	leave(n1, m, true)
	waitPersisted(t, r, "kept", sid, "red")
	for _, bad := range []string{"", "x", "1-", "-1", "1-2-3"} {
		if s, err := n2.a.RestoreSession("kept", bad); s != nil || err != nil {
			t.Errorf("restored from offset %q: %+v %v", bad, s, err)
		}
	}
	waitPersisted(t, r, "kept", sid, "red") // made-up offsets are refused before the session is taken...
	other := n2.c.NewAdapter(&host{name: "/other", node: "n2"}).(*Adapter)
	if s, err := other.RestoreSession("kept", offset); s != nil || err != nil {
		t.Errorf("restored in another namespace: %+v %v", s, err)
	}
	if s, err := n2.a.RestoreSession("kept", "0-1"); s != nil || err != nil { // ...an unknown one after
		t.Errorf("restored from an offset never given: %+v %v", s, err)
	}
}

// Broadcasts that reach the restoring node between its read of the stream and the socket's
// join are appended to the missed packets (once: those the read returned are not), and
// those after the join are delivered live.
func TestRecoveryRestoreWindow(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		n1, n2 := recoveryCluster(t, r, sharded, RecoveryOptions{MaxDisconnectionDuration: 10 * time.Second})
		const sid = "aaaaaaaaaaaaaaaaaaaa"
		a := joinSess(n1, sid, "pid-a", "room-with-a-long-name")
		n1.a.Broadcast(ev(`["before"]`), &rooms.Options{Rooms: []string{"room-with-a-long-name"}})
		waitFor(t, "an event", func() bool { return len(a.received()) == 1 })
		offset := offsetOf(t, a.received()[0])
		leave(n1, a, true)
		waitPersisted(t, r, "pid-a", sid, "room-with-a-long-name")
		n1.a.Broadcast(ev(`["read"]`), &rooms.Options{Rooms: []string{"room-with-a-long-name"}})
		s, err := n2.a.RestoreSession("pid-a", offset)
		if err != nil || s == nil || len(s.MissedPackets) != 1 {
			t.Fatalf("restore: %+v %v", s, err)
		}
		// A witness on n2 in another room tells when n1's broadcasts have reached n2.
		w := joinSess(n2, "wwwwwwwwwwwwwwwwwwww", "pid-w", "witness")
		n1.a.Broadcast(ev(`["window-1"]`), &rooms.Options{Rooms: []string{"room-with-a-long-name"}})
		n2.a.Broadcast(ev(`["window-2"]`), &rooms.Options{})
		n1.a.Broadcast(ev(`["w"]`), &rooms.Options{Rooms: []string{"witness"}})
		waitFor(t, "the witness", func() bool { return len(w.received()) == 2 })

		a2 := &sessMember{fakeMember: &fakeMember{id: sid, node: "n2"}, pid: "pid-a"}
		n2.a.AddAll(a2, s.Rooms)
		var got []string
		for _, p := range s.MissedPackets {
			got = append(got, withoutOffset(t, p.Data))
		}
		if !slices.Equal(got, []string{`["read"]`, `["window-1"]`, `["window-2"]`}) {
			t.Fatalf("missed packets %q", got)
		}
		n1.a.Broadcast(ev(`["live"]`), &rooms.Options{Rooms: []string{"room-with-a-long-name"}})
		waitFor(t, "the live event", func() bool { return len(a2.received()) == 1 })
		if got := a2.received(); !strings.HasPrefix(got[0], `2 ["live",`) {
			t.Fatalf("live: %q", got)
		}
		if n2.a.rec.restoring(sid) {
			t.Fatal("still restoring after the join")
		}
		// A publish still in flight from before the read, delivered after the join, does
		// not reach the socket a second time; one stored later does.
		old := ev(string(s.MissedPackets[0].Data))
		oldID, _ := lastOffset(old.Data)
		n2.a.deliverStored(oldID, old, &rooms.Options{Rooms: []string{"room-with-a-long-name"}})
		n2.a.deliverStored(streamID{99999999999999, 0}, ev(`["later","99999999999999-0"]`), &rooms.Options{Rooms: []string{"room-with-a-long-name"}})
		waitFor(t, "the later event", func() bool { return len(a2.received()) == 2 })
		if got := a2.received(); got[1] != `2 ["later","99999999999999-0"]` {
			t.Fatalf("after the join: %q", got)
		}
	})
}

// Without Options.Recovery the adapter stores nothing: no stream, no session keys, no
// offsets, and it does not restore.
func TestRecoveryOff(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	ns := cluster(t, r, 2, false)
	m := &sessMember{fakeMember: &fakeMember{id: "aaaaaaaaaaaaaaaaaaaa"}, pid: "pid"}
	ns[0].a.AddAll(m, []string{m.id, "red"})
	ns[1].a.Broadcast(ev(`["x"]`), &rooms.Options{Rooms: []string{"red"}})
	waitFor(t, "the event", func() bool { return len(m.received()) == 1 })
	if got := m.received()[0]; got != `2 ["x"]` {
		t.Fatalf("delivered %q", got)
	}
	ns[0].a.PersistSession(&rooms.Session{SID: m.id, PID: "pid"})
	if keys, _ := r.Do("KEYS", "*"); keys != "" {
		t.Fatalf("keys %q", keys)
	}
	var _ rooms.SessionStore = ns[0].a
	if s, err := ns[0].a.RestoreSession("pid", "1-0"); s != nil || err != nil {
		t.Fatalf("restore: %+v %v", s, err)
	}
}

func TestLastOffset(t *testing.T) {
	for in, want := range map[string]string{
		`["a","1-2"]`:                    "1-2",
		`["a", "17000-0" ] `:             "17000-0",
		`["a","x1-2"]`:                   "",
		`["a",1]`:                        "",
		`["1-2",{"k":"3-4"}]`:            "",
		`[]`:                             "",
		`["a","18446744073709551615-1"]`: "18446744073709551615-1",
	} {
		id, ok := lastOffset([]byte(in))
		if got := map[bool]string{true: id.String()}[ok]; got != want {
			t.Errorf("lastOffset(%s) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkBroadcast is what recovery costs a room broadcast: the pub/sub path alone, then
// with the XADD that gives the packet its offset first (one Redis round trip the caller
// waits for; parallel callers share pipelined writes).
func BenchmarkBroadcast(b *testing.B) {
	r := redistest.Start(b)
	for _, rec := range []bool{false, true} {
		name := "pubsub"
		o := testOptions("bench", false)
		if rec {
			name = "recovery"
			o.Recovery = &RecoveryOptions{}
		}
		nd := startNode(b, r, name, o)
		m := &benchMember{id: "aaaaaaaaaaaaaaaaaaaa"}
		nd.a.AddAll(m, []string{m.id, "room"})
		opts := &rooms.Options{Rooms: []string{"room"}}
		data := []byte(`["msg","a few words of chat",{"n":1}]`)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				nd.a.Broadcast(&rooms.Packet{Type: 2, Data: data, ID: -1}, opts)
			}
			if m.n.Load() < int64(b.N) {
				b.Fatalf("%d deliveries for %d broadcasts", m.n.Load(), b.N)
			}
			if rec { // what one entry of this size holds in Redis
				const key = "socket.io-recovery#/#stream"
				usage, _ := r.Do("MEMORY", "USAGE", key, "SAMPLES", "0")
				n, _ := r.Do("XLEN", key)
				u, _ := strconv.Atoi(usage)
				if x, _ := strconv.Atoi(n); x > 0 {
					b.ReportMetric(float64(u)/float64(x), "redis-B/entry")
				}
			}
		})
		b.Run(name+"-parallel", func(b *testing.B) { // 32 handler goroutines per CPU broadcasting
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					nd.a.Broadcast(&rooms.Packet{Type: 2, Data: data, ID: -1}, opts)
				}
			})
		})
		_ = nd.c.Close()
	}
}

// benchMember counts its deliveries.
type benchMember struct {
	id string
	n  atomic.Int64
}

func (m *benchMember) ID() string                  { return m.id }
func (m *benchMember) Deliver(*rooms.Packet, bool) { m.n.Add(1) }
func (m *benchMember) Disconnect(bool)             {}
func (m *benchMember) Data() any                   { return nil }
func (m *benchMember) HandshakeData() any          { return nil }
func (m *benchMember) PID() string                 { return "pid" }

// Stored broadcasts from several nodes and goroutines at once reach every member in offset
// order, each once, the same sequence on every node: a member's last offset says exactly
// what it has (recovering from it replays nothing it got and skips nothing it missed).
// Delivered from pub/sub, a node publishing an earlier entry later than another node's
// next one made members see offsets go back.
func TestRecoveryDeliveryOrder(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		n1, n2 := recoveryCluster(t, r, sharded, RecoveryOptions{MaxDisconnectionDuration: 10 * time.Second})
		members := []*sessMember{
			joinSess(n1, "aaaaaaaaaaaaaaaaaaaa", "pid-a", "room"),
			joinSess(n2, "bbbbbbbbbbbbbbbbbbbb", "pid-b", "room"),
		}
		const senders, each = 4, 150
		var wg sync.WaitGroup
		var early atomic.Int32
		for i := range 2 * senders {
			nd, here := []*node{n1, n2}[i%2], members[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					nd.a.Broadcast(ev(fmt.Sprintf(`["m",%d,%d]`, i, j)), &rooms.Options{Rooms: []string{"room"}})
					// Delivered on the broadcasting node before Broadcast returned, as
					// without recovery (a direct emit after it comes after it).
					prefix := fmt.Sprintf(`2 ["m",%d,%d,`, i, j)
					if !slices.ContainsFunc(here.received(), func(d string) bool { return strings.HasPrefix(d, prefix) }) {
						early.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if n := early.Load(); n > 0 {
			t.Errorf("%d broadcasts returned before their node's member had them", n)
		}
		const total = 2 * senders * each
		for _, m := range members {
			waitFor(t, "every event at "+m.node, func() bool { return len(m.received()) >= total })
		}
		time.Sleep(100 * time.Millisecond) // room for a duplicate to show
		var seqs [2][]string
		for k, m := range members {
			got := m.received()
			if len(got) != total {
				t.Fatalf("%s got %d events, want %d", m.node, len(got), total)
			}
			var last streamID
			next := map[string]int{} // per sender, the index expected next
			for _, d := range got {
				o := offsetOf(t, d)
				id, _ := parseStreamID(o)
				if !last.less(id) {
					t.Fatalf("%s: offset %v after %v", m.node, id, last)
				}
				last = id
				var args []any
				_ = json.Unmarshal([]byte(d[2:]), &args)
				sender := fmt.Sprint(args[1])
				if j := int(args[2].(float64)); j != next[sender] {
					t.Fatalf("%s: sender %s event %d, want %d", m.node, sender, j, next[sender])
				}
				next[sender]++
				seqs[k] = append(seqs[k], o)
			}
		}
		if !slices.Equal(seqs[0], seqs[1]) {
			t.Fatal("the nodes delivered different sequences")
		}
		if st := n1.c.Stats(); st.RecoveryUnstored != 0 || st.TailErrors != 0 {
			t.Errorf("n1 stats %+v", st)
		}
	})
}

// A node started before its Redis delivers recoverable broadcasts at once, without an
// offset, until its tail has its starting point; then from the stream, each once, also
// after Redis restarts empty. A node without recovery gets the stored ones by pub/sub.
func TestRecoveryTailWithoutRedis(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	r.Stop()
	c, err := Open(r.URL(), recoveryOptions("n1", false, RecoveryOptions{MaxDisconnectionDuration: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	n1 := &node{name: "n1", c: c, a: c.NewAdapter(&host{name: "/", node: "n1"}).(*Adapter)}
	m := joinSess(n1, "aaaaaaaaaaaaaaaaaaaa", "pid-a", "room")
	n1.a.Broadcast(ev(`["down"]`), &rooms.Options{Rooms: []string{"room"}})
	if got := m.received(); !slices.Equal(got, []string{`2 ["down"]`}) {
		t.Fatalf("without Redis: %q", got)
	}

	r.Restart(t)
	waitFor(t, "the tail's start", func() bool { return c.Up() && n1.a.tailReady() })
	n2 := startNode(t, r, "n2", testOptions("n2", false)) // recovery off
	b := join(n2, "bbbbbbbbbbbbbbbbbbbb", "room")
	waitFor(t, "membership", func() bool { alive, _ := n1.a.Nodes(); return len(alive) == 1 })
	n1.a.Broadcast(ev(`["up"]`), &rooms.Options{Rooms: []string{"room"}})
	waitFor(t, "the stored event", func() bool { return len(m.received()) == 2 && len(b.received()) == 1 })
	first, _ := parseStreamID(offsetOf(t, m.received()[1]))
	if got := b.received()[0]; got != m.received()[1] {
		t.Fatalf("the node without recovery got %q, the stream's reader %q", got, m.received()[1])
	}

	r.Stop()
	r.Restart(t) // empty: the stream starts again
	waitFor(t, "up again", func() bool { return c.Up() })
	waitFor(t, "a stored event after the restart", func() bool {
		n1.a.Broadcast(ev(`["again"]`), &rooms.Options{Rooms: []string{"room"}})
		time.Sleep(50 * time.Millisecond)
		got := m.received()
		return strings.HasPrefix(got[len(got)-1], `2 ["again","`)
	})
	time.Sleep(100 * time.Millisecond)
	got := m.received()
	seen := map[string]bool{}
	for _, d := range got[2:] {
		if !strings.HasPrefix(d, `2 ["again","`) {
			continue // sent before the adapter saw Redis again: no offset
		}
		if seen[d] {
			t.Fatalf("delivered twice: %s in %q", d, got)
		}
		seen[d] = true
		if id, _ := parseStreamID(offsetOf(t, d)); !first.less(id) {
			t.Fatalf("offset %v after %v", id, first)
		}
	}
	if st := c.Stats(); st.RecoveryUnstored == 0 || st.RecoveryStored < 2 {
		t.Errorf("stats %+v", st)
	}
}
