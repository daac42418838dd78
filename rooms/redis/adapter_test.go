package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/riptide-io/riptide/internal/leakcheck"
	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms"
)

// TestMain checks that no goroutine of this package outlives the tests (rueidis does the
// same for its own).
func TestMain(m *testing.M) { leakcheck.Main(m, "rooms/redis.(*Cluster)", "rueidis.(*pipe)") }

// member is a socket as the adapter sees it; it answers acks at once with its id.
type fakeMember struct {
	id   string
	node string

	mu           sync.Mutex
	got          []string
	acks         map[int64]func([]byte, [][]byte)
	next         int64
	disconnected int
	data         any
}

func (m *fakeMember) ID() string { return m.id }
func (m *fakeMember) Deliver(p *rooms.Packet, volatile bool) {
	m.mu.Lock()
	entry := fmt.Sprintf("%d %s", p.Type, p.Data)
	for _, a := range p.Attachments {
		entry += fmt.Sprintf(" %x", a)
	}
	m.got = append(m.got, entry)
	f := m.acks[p.ID]
	delete(m.acks, p.ID)
	m.mu.Unlock()
	if p.ID >= 0 && f != nil {
		go f([]byte(fmt.Sprintf(`[%q,2]`, "ack-"+m.id)), nil)
	}
}
func (m *fakeMember) Disconnect(bool) {
	m.mu.Lock()
	m.disconnected++
	m.mu.Unlock()
}
func (m *fakeMember) Data() any { return m.data }
func (m *fakeMember) HandshakeData() any {
	return map[string]any{"auth": map[string]any{"node": m.node}}
}
func (m *fakeMember) RegisterAck(f func([]byte, [][]byte)) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.acks == nil {
		m.acks = map[int64]func([]byte, [][]byte){}
	}
	m.next++
	m.acks[m.next] = f
	return m.next, true
}

func (m *fakeMember) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.got)
}

// host is a namespace: it answers server-side events with its node's name.
type host struct {
	name, node string
	mu         sync.Mutex
	events     []string
}

func (h *host) Name() string { return h.name }
func (h *host) ServerSideEvent(data []byte, atts [][]byte, ack func([]byte, [][]byte)) {
	h.mu.Lock()
	h.events = append(h.events, string(data))
	h.mu.Unlock()
	if ack != nil {
		go ack([]byte(fmt.Sprintf(`[%q]`, "from-"+h.node)), nil)
	}
}
func (h *host) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

type node struct {
	name string
	c    *Cluster
	a    *Adapter
	h    *host
}

func testOptions(name string, sharded bool) Options {
	return Options{
		Sharded: sharded, NodeName: name, RequestsTimeout: 2 * time.Second,
		HeartbeatInterval: 200 * time.Millisecond, HeartbeatTimeout: 600 * time.Millisecond,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func startNode(t testing.TB, r *redistest.Server, name string, opts Options) *node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, r.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h := &host{name: "/", node: name}
	return &node{name: name, c: c, a: c.NewAdapter(h).(*Adapter), h: h}
}

// cluster starts n nodes and waits until each knows the others from their heartbeats.
func cluster(t *testing.T, r *redistest.Server, n int, sharded bool) []*node {
	t.Helper()
	var nodes []*node
	for i := 0; i < n; i++ {
		nodes = append(nodes, startNode(t, r, fmt.Sprintf("n%d", i+1), testOptions(fmt.Sprintf("n%d", i+1), sharded)))
	}
	waitFor(t, "membership", func() bool {
		for _, nd := range nodes {
			if alive, _ := nd.a.Nodes(); len(alive) != n-1 {
				return false
			}
		}
		return true
	})
	return nodes
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func join(nd *node, id string, rs ...string) *fakeMember {
	m := &fakeMember{id: id, node: nd.name}
	nd.a.AddAll(m, append([]string{id}, rs...))
	return m
}

func forBoth(t *testing.T, f func(t *testing.T, sharded bool)) {
	t.Parallel()
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, sharded)
		})
	}
}

func TestBroadcastAcrossNodes(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		ns := cluster(t, r, 3, sharded)
		a := join(ns[0], "aaaaaaaaaaaaaaaaaaaa", "red")
		b := join(ns[1], "bbbbbbbbbbbbbbbbbbbb", "red", "blue")
		c := join(ns[2], "cccccccccccccccccccc", "blue")
		p := func(s string) *rooms.Packet { return &rooms.Packet{Type: 2, Data: []byte(s), ID: -1} }

		ns[0].a.Broadcast(p(`["all",1,{"x":1.5}]`), &rooms.Options{})
		ns[1].a.Broadcast(p(`["red"]`), &rooms.Options{Rooms: []string{"red"}})
		ns[2].a.Broadcast(p(`["not-blue"]`), &rooms.Options{Except: []string{"blue"}})
		ns[0].a.Broadcast(p(`["red-or-blue-not-a"]`), &rooms.Options{Rooms: []string{"red", "blue"}, Except: []string{a.id}})
		ns[0].a.Broadcast(p(`["local"]`), &rooms.Options{Flags: rooms.Flags{Local: true}})
		ns[1].a.Broadcast(&rooms.Packet{Type: 5, Data: []byte(`["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
			Attachments: [][]byte{{1, 2, 3}, {}}, ID: -1}, &rooms.Options{Rooms: []string{c.id}})
		want := map[*fakeMember][]string{
			a: {`2 ["all",1,{"x":1.5}]`, `2 ["red"]`, `2 ["not-blue"]`, `2 ["local"]`},
			b: {`2 ["all",1,{"x":1.5}]`, `2 ["red"]`, `2 ["red-or-blue-not-a"]`},
			c: {`2 ["all",1,{"x":1.5}]`, `2 ["red-or-blue-not-a"]`, `5 ["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}] 010203 `},
		}
		for m, w := range want {
			waitFor(t, m.id+" deliveries", func() bool { return len(m.received()) >= len(w) })
			time.Sleep(50 * time.Millisecond) // nothing more arrives
			got := m.received()
			slices.Sort(got)
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Errorf("%s got\n%q\nwant\n%q", m.id, got, w)
			}
		}
	})
}

func TestRequestsAcrossNodes(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		ns := cluster(t, r, 3, sharded)
		a := join(ns[0], "aaaaaaaaaaaaaaaaaaaa", "red")
		b := join(ns[1], "bbbbbbbbbbbbbbbbbbbb", "red")
		c := join(ns[2], "cccccccccccccccccccc", "blue")
		b.data = map[string]any{"name": "bee"}

		ids := func(infos []rooms.SocketInfo) []string {
			var out []string
			for _, s := range infos {
				out = append(out, s.ID)
			}
			slices.Sort(out)
			return out
		}
		infos, err := ns[2].a.FetchSockets(&rooms.Options{Rooms: []string{"red"}})
		if err != nil || !slices.Equal(ids(infos), []string{a.id, b.id}) {
			t.Fatalf("fetch red: %v %v", ids(infos), err)
		}
		for _, s := range infos {
			if s.ID == b.id && (string(s.Data.(json.RawMessage)) != `{"name":"bee"}` || !strings.Contains(string(s.Handshake.(json.RawMessage)), `"n2"`)) {
				t.Errorf("remote socket %+v", s)
			}
			if s.ID == a.id && string(s.Data.(json.RawMessage)) != `{}` {
				t.Errorf("nil data should be {} as in Node: %s", s.Data)
			}
		}

		ns[0].a.AddSockets(&rooms.Options{Rooms: []string{"blue"}}, []string{"green"})
		waitFor(t, "remote join", func() bool { return slices.Contains(ns[2].a.SocketRooms(c.id), "green") })
		infos, _ = ns[1].a.FetchSockets(&rooms.Options{Rooms: []string{"green"}})
		if !slices.Equal(ids(infos), []string{c.id}) {
			t.Errorf("fetch green: %v", ids(infos))
		}
		ns[1].a.DelSockets(&rooms.Options{}, []string{"red"})
		waitFor(t, "remote leave", func() bool { return !slices.Contains(ns[0].a.SocketRooms(a.id), "red") })
		if slices.Contains(ns[1].a.SocketRooms(b.id), "red") {
			t.Error("local leave")
		}
		ns[0].a.DisconnectSockets(&rooms.Options{Rooms: []string{"green"}}, false)
		waitFor(t, "remote disconnect", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.disconnected == 1 })

		all, err := ns[0].a.AllRooms()
		if err != nil || !slices.Contains(all, "green") || !slices.Contains(all, b.id) {
			t.Errorf("all rooms %v %v", all, err)
		}
		if n, err := ns[0].a.ServerCount(context.Background()); n != 3 || err != nil {
			t.Errorf("server count %d %v", n, err)
		}

		// Broadcast with acks: every member on every node answers.
		var mu sync.Mutex
		var replies []string
		counted := make(chan int, 1)
		err = ns[0].a.BroadcastWithAck(&rooms.Packet{Type: 2, Data: []byte(`["q"]`), ID: -1},
			&rooms.Options{Flags: rooms.Flags{Timeout: 2 * time.Second}},
			func(m rooms.Member) int64 {
				id, _ := m.(*fakeMember).RegisterAck(func(r []byte, _ [][]byte) { mu.Lock(); replies = append(replies, string(r)); mu.Unlock() })
				return id
			},
			func(n int) { counted <- n },
			func(r []byte, _ [][]byte) { mu.Lock(); replies = append(replies, string(r)); mu.Unlock() })
		if err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-counted:
			if n != 3 {
				t.Errorf("count %d, want 3", n)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("no count")
		}
		waitFor(t, "acks", func() bool { mu.Lock(); defer mu.Unlock(); return len(replies) == 3 })
		slices.Sort(replies)
		// Remote answers carry the first argument only, as Node forwards them.
		want := []string{`["ack-` + a.id + `",2]`, `["ack-` + b.id + `"]`, `["ack-` + c.id + `"]`}
		if !slices.Equal(replies, want) {
			t.Errorf("acks %q want %q", replies, want)
		}

		// Server-side emit, without and with acks.
		if err := ns[0].a.ServerSideEmit(&rooms.Packet{Data: []byte(`["note",1]`)}, nil, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "notes", func() bool { return len(ns[1].h.received()) == 1 && len(ns[2].h.received()) == 1 })
		if len(ns[0].h.received()) != 0 {
			t.Error("the sender got its own server-side event")
		}
		var answers []string
		nodes := make(chan int, 1)
		err = ns[1].a.ServerSideEmit(&rooms.Packet{Data: []byte(`["count"]`)}, func(n int) { nodes <- n },
			func(r []byte, _ [][]byte) { mu.Lock(); answers = append(answers, string(r)); mu.Unlock() })
		if err != nil || <-nodes != 2 {
			t.Fatal("server-side emit with ack", err)
		}
		waitFor(t, "answers", func() bool { mu.Lock(); defer mu.Unlock(); return len(answers) == 2 })
		slices.Sort(answers)
		if !slices.Equal(answers, []string{`["from-n1"]`, `["from-n3"]`}) {
			t.Errorf("answers %q", answers)
		}
	})
}

// TestSilentNodes: a subscriber that never answers. One that sent heartbeats is not waited
// for once they stop; one that never did (as a Node.js server would be) is waited for until
// the timeout; both are named in the PartialError.
func TestSilentNodes(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		ns := cluster(t, r, 2, sharded)
		m := join(ns[1], "bbbbbbbbbbbbbbbbbbbb")
		reqCh, respFor := "socket.io-request#/#", func(uid string) string { return "socket.io-response#/#" + uid + "#" }
		if sharded {
			reqCh, respFor = "socket.io#/#", func(uid string) string { return "socket.io#/#" + uid + "#" }
		}
		// A hung riptide node: subscribed, one heartbeat, then nothing.
		hung := rawSubscriber(t, r, sharded, reqCh, respFor("hungnode"))
		hb := `{"uid":"hungnode","type":101,"name":"hung"}`
		if sharded {
			hb = `{"type":2,"data":{"name":"hung"},"uid":"hungnode","nsp":"/"}`
		}
		publish(t, r, sharded, reqCh, hb)
		waitFor(t, "hung node known", func() bool { alive, _ := ns[0].a.Nodes(); return len(alive) == 2 })

		// While it counts as alive, a request waits for it and times out with what arrived.
		begin := time.Now()
		infos, err := ns[0].a.FetchSockets(&rooms.Options{})
		var pe *PartialError
		if !errors.As(err, &pe) || !errors.Is(err, ErrTimeout) || len(pe.Missing) != 1 || pe.Missing[0].Name != "hung" || len(infos) != 1 || infos[0].ID != m.id {
			t.Fatalf("fetch while the hung node seems alive: %v %v", infos, err)
		}
		if d := time.Since(begin); d < 1500*time.Millisecond || d > 3*time.Second {
			t.Errorf("took %v, want the 2 s timeout", d)
		}
		// Once its heartbeats are overdue, no one waits for it; it is still reported.
		waitFor(t, "hung node silent", func() bool { _, silent := ns[0].a.Nodes(); return len(silent) == 1 })
		begin = time.Now()
		infos, err = ns[0].a.FetchSockets(&rooms.Options{})
		if !errors.As(err, &pe) || len(pe.Missing) != 1 || len(infos) != 1 || time.Since(begin) > time.Second {
			t.Fatalf("fetch with a silent node: %v %v after %v", infos, err, time.Since(begin))
		}
		// Gone from Redis: forgotten.
		hung.Close()
		waitFor(t, "hung node forgotten", func() bool {
			_, err := ns[0].a.FetchSockets(&rooms.Options{})
			return err == nil
		})
		// A subscriber without heartbeats that never answers: waited for, reported unidentified.
		rawSubscriber(t, r, sharded, reqCh)
		_, err = ns[0].a.FetchSockets(&rooms.Options{})
		if !errors.As(err, &pe) || pe.Unidentified != 1 || len(pe.Missing) != 0 {
			t.Fatalf("fetch with a silent Node.js-like node: %v", err)
		}
	})
}

// rawSubscriber subscribes a plain connection to chans; it never answers.
func rawSubscriber(t *testing.T, r *redistest.Server, sharded bool, chans ...string) rueidis.DedicatedClient {
	t.Helper()
	cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{r.Addr()}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	dc, release := cl.Dedicate()
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) {}})
	for _, ch := range chans {
		cmd := dc.B().Subscribe().Channel(ch).Build()
		if sharded {
			cmd = dc.B().Ssubscribe().Channel(ch).Build()
		}
		if err := dc.Do(context.Background(), cmd).Error(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { dc.Close(); release(); cl.Close() })
	return dc
}

func publish(t *testing.T, r *redistest.Server, sharded bool, ch, payload string) {
	t.Helper()
	cmd := "PUBLISH"
	if sharded {
		cmd = "SPUBLISH"
	}
	if _, err := r.Do(cmd, ch, payload); err != nil {
		t.Fatal(err)
	}
}

// TestRedisRestart: Redis goes away and comes back, three times. Local delivery never stops,
// cross-node requests fail fast while it is away, the adapters resubscribe, and nothing
// accumulates across reconnects.
func TestRedisRestart(t *testing.T) {
	forBoth(t, func(t *testing.T, sharded bool) {
		r := redistest.Start(t)
		ns := cluster(t, r, 2, sharded)
		a := join(ns[0], "aaaaaaaaaaaaaaaaaaaa", "room")
		b := join(ns[1], "bbbbbbbbbbbbbbbbbbbb", "room")
		for cycle := 0; cycle < 3; cycle++ {
			r.Stop()
			waitFor(t, "down", func() bool { return !ns[0].c.Up() && !ns[1].c.Up() })
			ns[0].a.Broadcast(&rooms.Packet{Type: 2, Data: []byte(`["while-down"]`), ID: -1}, &rooms.Options{Rooms: []string{"room"}})
			if got := a.received(); len(got) != 2*cycle+1 || got[len(got)-1] != `2 ["while-down"]` {
				t.Fatalf("local delivery while Redis is down: %q", got)
			}
			begin := time.Now()
			infos, err := ns[0].a.FetchSockets(&rooms.Options{})
			if !errors.Is(err, ErrUnavailable) || len(infos) != 1 || time.Since(begin) > time.Second { // at once, not after the 2 s request timeout
				t.Fatalf("fetch while down: %v %v after %v", infos, err, time.Since(begin))
			}
			if err := ns[0].a.ServerSideEmit(&rooms.Packet{Data: []byte(`["x"]`)}, nil, nil); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("server-side emit while down: %v", err)
			}
			r.Restart(t)
			waitFor(t, "up", func() bool { return ns[0].c.Up() && ns[1].c.Up() })
			waitFor(t, "cross-node delivery", func() bool {
				ns[0].a.Broadcast(&rooms.Packet{Type: 2, Data: []byte(`["after"]`), ID: -1}, &rooms.Options{Rooms: []string{"room"}, Except: []string{a.id}})
				time.Sleep(30 * time.Millisecond)
				got := b.received()
				return len(got) > 0 && got[len(got)-1] == `2 ["after"]`
			})
			a.mu.Lock()
			a.got = append(a.got, "x") // keeps the count of the check above simple
			a.mu.Unlock()
			infos, err = ns[0].a.FetchSockets(&rooms.Options{})
			if err != nil || len(infos) != 2 {
				t.Fatalf("fetch after restart: %v %v", infos, err)
			}
		}
		if s := ns[0].c.Stats(); s.Reconnects < 3 || s.OutboxDropped == 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

// TestInboxDrops: a flood larger than the inbox is dropped and counted; the reader never
// waits.
func TestInboxDrops(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	opts := testOptions("small", false)
	opts.InboxSize = 1
	nd := startNode(t, r, "small", opts)
	block := make(chan struct{})
	nd.h.mu.Lock() // the host's ServerSideEvent blocks on this lock: the dispatcher stalls
	go func() { <-block; nd.h.mu.Unlock() }()
	for i := 0; i < 50; i++ {
		publish(t, r, false, "socket.io-request#/#", `{"uid":"other","type":6,"data":["x"]}`)
	}
	waitFor(t, "drops", func() bool { return nd.c.Stats().InboxDropped > 0 })
	close(block)
	waitFor(t, "drained", func() bool { return len(nd.h.received()) >= 1 })
}

// TestNoLeakAcrossReconnects: goroutines and heap stay flat over repeated Redis outages. Not
// parallel, so that the counts are this test's alone.
func TestNoLeakAcrossReconnects(t *testing.T) {
	r := redistest.Start(t)
	ns := cluster(t, r, 2, false)
	join(ns[0], "aaaaaaaaaaaaaaaaaaaa", "room")
	join(ns[1], "bbbbbbbbbbbbbbbbbbbb", "room")
	measure := func() (int, uint64) {
		var n int
		var ms runtime.MemStats
		for i := 0; i < 20; i++ { // let exiting goroutines finish
			runtime.GC()
			n = runtime.NumGoroutine()
			time.Sleep(20 * time.Millisecond)
			if runtime.NumGoroutine() == n {
				break
			}
		}
		runtime.ReadMemStats(&ms)
		return n, ms.HeapInuse
	}
	cycle := func() {
		r.Stop()
		waitFor(t, "down", func() bool { return !ns[0].c.Up() && !ns[1].c.Up() })
		_, _ = ns[0].a.FetchSockets(&rooms.Options{})
		r.Restart(t)
		waitFor(t, "up", func() bool { return ns[0].c.Up() && ns[1].c.Up() })
		waitFor(t, "fetch", func() bool {
			infos, err := ns[0].a.FetchSockets(&rooms.Options{})
			return err == nil && len(infos) == 2
		})
	}
	cycle()
	g0, h0 := measure()
	for i := 0; i < 5; i++ {
		cycle()
	}
	g1, h1 := measure()
	if g1 > g0+2 {
		t.Errorf("goroutines: %d after the first reconnect, %d after five more", g0, g1)
	}
	if h1 > h0+8<<20 {
		t.Errorf("heap in use: %d bytes after the first reconnect, %d after five more", h0, h1)
	}
	t.Logf("goroutines %d -> %d, heap %d -> %d", g0, g1, h0, h1)
}

// TestAnswersEveryRequest: a riptide node answers each request type the Node adapter sends
// or answers (classic), the legacy socket-id forms included, and takes broadcasts written
// with a JSON parser.
func TestAnswersEveryRequest(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	nd := startNode(t, r, "solo", testOptions("solo", false))
	m := join(nd, "aaaaaaaaaaaaaaaaaaaa", "red")

	cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{r.Addr()}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dc, release := cl.Dedicate()
	defer release()
	defer dc.Close()
	answers := make(chan string, 16)
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(msg rueidis.PubSubMessage) {
		js, _, err := toJSON([]byte(msg.Message))
		if err == nil {
			answers <- string(js)
		}
	}})
	if err := dc.Do(context.Background(), dc.B().Subscribe().Channel("socket.io-response#/#").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	req := "socket.io-request#/#"
	for _, c := range []struct{ req, want string }{
		{`{"uid":"nodejs","requestId":"r0","type":0,"rooms":["red"]}`, `{"requestId":"r0","sockets":["aaaaaaaaaaaaaaaaaaaa"],"uid":"` + nd.a.UID() + `"}`},
		{`{"uid":"nodejs","requestId":"r1","type":1}`, `"rooms":[`},
		{`{"uid":"nodejs","requestId":"r2","type":2,"sid":"aaaaaaaaaaaaaaaaaaaa","room":"legacy"}`, `{"requestId":"r2","uid":"`},
		{`{"uid":"nodejs","requestId":"r3","type":3,"sid":"aaaaaaaaaaaaaaaaaaaa","room":"legacy"}`, `{"requestId":"r3","uid":"`},
		{`{"uid":"nodejs","requestId":"r5","type":5,"opts":{"rooms":["red"],"except":[]}}`, `{"requestId":"r5","sockets":[{"id":"aaaaaaaaaaaaaaaaaaaa","handshake":{"auth":{"node":"solo"}},"rooms":["aaaaaaaaaaaaaaaaaaaa","red"],"data":{}}],"uid":"`},
		{`{"uid":"nodejs","requestId":"r6","type":6,"data":["count"]}`, `{"type":6,"requestId":"r6","data":"from-solo","uid":"`},
	} {
		publish(t, r, false, req, c.req)
		select {
		case got := <-answers:
			if !strings.HasPrefix(got, c.want) && !strings.Contains(got, c.want) {
				t.Errorf("request %s: answer %s, want %s", c.req, got, c.want)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("request %s: no answer", c.req)
		}
	}
	// A broadcast with acks (msgpack): the count, then the member's ack.
	bw, _ := jsonToMsgpack(nil, []byte(`{"uid":"nodejs","requestId":"r7","type":7,"packet":{"type":2,"data":["q"],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}}`), nil)
	publish(t, r, false, req, string(bw))
	for _, want := range []string{`{"type":8,"requestId":"r7","clientCount":1,"uid":"`, `{"type":9,"requestId":"r7","packet":"ack-aaaaaaaaaaaaaaaaaaaa","uid":"`} {
		select {
		case got := <-answers:
			if !strings.HasPrefix(got, want) {
				t.Errorf("broadcast with acks: %s, want %s", got, want)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("broadcast with acks: no %s", want)
		}
	}
	// A broadcast from a Node adapter configured with a JSON parser.
	publish(t, r, false, "socket.io#/#red#", `["nodejs",{"type":2,"data":["json-parser",1],"nsp":"/"},{"rooms":["red"],"except":[],"flags":{}}]`)
	waitFor(t, "JSON broadcast", func() bool { return slices.Contains(m.received(), `2 ["json-parser",1]`) })
}

// A room named like a socket id, joined by another socket, reaches both through the cluster
// (an emitter's to(id) arrives on that room's channel), and the legacy requests that name a
// socket by id act on that socket, not on a member of the room of that name.
func TestRoomNamedLikeASocketID(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	nd := startNode(t, r, "solo", testOptions("solo", false))
	const aID, bID = "aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"
	a := join(nd, aID)
	b := join(nd, bID, aID)

	publish(t, r, false, "socket.io#/#"+aID+"#", `["emitter",{"type":2,"data":["to-a",1],"nsp":"/"},{"rooms":["`+aID+`"],"except":[],"flags":{}}]`)
	want := `2 ["to-a",1]`
	waitFor(t, "to(a.id) at a and b", func() bool {
		return slices.Contains(a.received(), want) && slices.Contains(b.received(), want)
	})

	publish(t, r, false, "socket.io-request#/#", `{"uid":"nodejs","requestId":"j1","type":2,"sid":"`+aID+`","room":"legacy"}`)
	waitFor(t, "legacy join of a", func() bool { return slices.Contains(nd.a.SocketRooms(aID), "legacy") })
	if rs := nd.a.SocketRooms(bID); slices.Contains(rs, "legacy") {
		t.Fatalf("the legacy join by id also moved b: %v", rs)
	}
}
