package tier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/riptide-io/riptide/internal/redistest"
)

// The member store tests run every behaviour case against both stores; the Redis ones use
// a real redis-server (internal/redistest) and, for "two nodes", two stores with separate
// clients on it.

func membersRedisClient(t testing.TB, r *redistest.Server) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{r.Addr()}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// newRedisStore returns a store on its own client; Closed at cleanup (before the client).
func newRedisMembersT(t testing.TB, r *redistest.Server, opts RedisMembersOptions) *redisMembers {
	t.Helper()
	s := NewRedisMembers(membersRedisClient(t, r), opts).(*redisMembers)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// twoNodes starts a Redis and two stores on it with separate clients.
func twoNodes(t testing.TB, opts RedisMembersOptions) (r *redistest.Server, a, b *redisMembers) {
	t.Helper()
	r = redistest.Start(t)
	return r, newRedisMembersT(t, r, opts), newRedisMembersT(t, r, opts)
}

// callCtx is a context that bounds one call of a test.
func callCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func joinT(t testing.TB, m Members, room, id, data string, max int, list bool) JoinResult {
	t.Helper()
	var d []byte
	if data != "" {
		d = []byte(data)
	}
	res, err := m.Join(callCtx(t), room, id, d, max, list)
	if err != nil {
		t.Fatalf("join %s %s: %v", room, id, err)
	}
	return res
}

func listT(t testing.TB, m Members, room string) []Member {
	t.Helper()
	ms, err := m.List(callCtx(t), room)
	if err != nil {
		t.Fatalf("list %s: %v", room, err)
	}
	return ms
}

// show renders members as "id=data id=data" for comparisons.
func showMembers(ms []Member) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += " "
		}
		s += m.ID
		if m.Data != nil {
			s += "=" + string(m.Data)
		}
	}
	return s
}

func memberIDs(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// memberCases is the behaviour both stores share.
var memberCases = []struct {
	name string
	run  func(t *testing.T, m Members)
}{
	{"join", func(t *testing.T, m Members) {
		buf := []byte(`{"n":1}`)
		res, err := m.Join(callCtx(t), "r", "a", buf, 0, true)
		if err != nil || !res.OK || res.Count != 1 || showMembers(res.Members) != `a={"n":1}` {
			t.Fatalf("first join: %+v %v", res, err)
		}
		copy(buf, `{"n":9}`) // the store copied the data
		if res := joinT(t, m, "r", "b", "", 0, true); !res.OK || res.Count != 2 || showMembers(res.Members) != `a={"n":1} b` {
			t.Fatalf("second join: %+v", res)
		}
		if res := joinT(t, m, "r", "c", `"x"`, 0, false); !res.OK || res.Count != 3 || res.Members != nil {
			t.Fatalf("join without list: %+v", res)
		}
		if got := showMembers(listT(t, m, "r")); got != `a={"n":1} b c="x"` {
			t.Fatalf("list: %s", got)
		}
		if got := listT(t, m, "other"); len(got) != 0 {
			t.Fatalf("another room: %v", got)
		}
	}},
	{"rejoin updates data", func(t *testing.T, m Members) {
		joinT(t, m, "r", "a", `1`, 2, false)
		joinT(t, m, "r", "b", `2`, 2, false)
		// The room is full, but a is in it: the rejoin succeeds and keeps a's place.
		if res := joinT(t, m, "r", "a", `3`, 2, true); !res.OK || res.Count != 2 || showMembers(res.Members) != `a=3 b=2` {
			t.Fatalf("rejoin: %+v", res)
		}
		if res := joinT(t, m, "r", "b", "", 2, true); !res.OK || res.Count != 2 || showMembers(res.Members) != `a=3 b` {
			t.Fatalf("rejoin without data: %+v", res)
		}
	}},
	{"full", func(t *testing.T, m Members) {
		joinT(t, m, "r", "a", "", 2, false)
		joinT(t, m, "r", "b", "", 2, false)
		if res := joinT(t, m, "r", "c", `1`, 2, true); res.OK || res.Count != 2 || res.Members != nil {
			t.Fatalf("join of a full room: %+v", res)
		}
		if got := showMembers(listT(t, m, "r")); got != "a b" {
			t.Fatalf("full room holds %s", got)
		}
		// A lower bound than the count refuses too; a higher one admits.
		if res := joinT(t, m, "r", "c", "", 1, false); res.OK || res.Count != 2 {
			t.Fatalf("join with max below count: %+v", res)
		}
		if res := joinT(t, m, "r", "c", "", 3, false); !res.OK || res.Count != 3 {
			t.Fatalf("join with max 3: %+v", res)
		}
	}},
	{"leave", func(t *testing.T, m Members) {
		for _, id := range []string{"a", "b", "c"} {
			joinT(t, m, "r", id, "", 3, false)
		}
		ms, err := m.Leave(callCtx(t), "r", "b", true)
		if err != nil || showMembers(ms) != "a c" {
			t.Fatalf("leave b: %v %v", ms, err)
		}
		if ms, err = m.Leave(callCtx(t), "r", "b", true); err != nil || showMembers(ms) != "a c" {
			t.Fatalf("leave b again: %v %v", ms, err)
		}
		if ms, err = m.Leave(callCtx(t), "nowhere", "a", true); err != nil || len(ms) != 0 {
			t.Fatalf("leave a room never joined: %v %v", ms, err)
		}
		if ms, err = m.Leave(callCtx(t), "r", "a", false); err != nil || ms != nil {
			t.Fatalf("leave without list: %v %v", ms, err)
		}
		if res := joinT(t, m, "r", "d", "", 2, false); !res.OK || res.Count != 2 {
			t.Fatalf("join after leave: %+v", res)
		}
		for _, id := range []string{"c", "d"} {
			if _, err := m.Leave(callCtx(t), "r", id, false); err != nil {
				t.Fatal(err)
			}
		}
		if got := listT(t, m, "r"); len(got) != 0 {
			t.Fatalf("empty room lists %v", got)
		}
		if res := joinT(t, m, "r", "e", "", 1, true); !res.OK || res.Count != 1 || showMembers(res.Members) != "e" {
			t.Fatalf("join of an emptied room: %+v", res)
		}
	}},
	{"list order", func(t *testing.T, m Members) {
		for _, id := range []string{"e", "d", "c", "b", "a"} { // not in lexical order
			joinT(t, m, "r", id, "", 0, false)
		}
		if _, err := m.Leave(callCtx(t), "r", "c", false); err != nil {
			t.Fatal(err)
		}
		joinT(t, m, "r", "e", `1`, 0, false) // a rejoin keeps its place
		joinT(t, m, "r", "c", "", 0, false)  // a new join goes last
		if got := showMembers(listT(t, m, "r")); got != "e=1 d b a c" {
			t.Fatalf("order: %s", got)
		}
	}},
	{"unbounded", func(t *testing.T, m Members) {
		for _, max := range []int{0, -1} {
			room := "r" + strconv.Itoa(max)
			for i := 0; i < 50; i++ {
				if res := joinT(t, m, room, strconv.Itoa(i), "", max, false); !res.OK || res.Count != i+1 {
					t.Fatalf("max %d, join %d: %+v", max, i, res)
				}
			}
		}
	}},
	{"list cap", func(t *testing.T, m Members) {
		n := MaxListedMembers + 5
		for i := 0; i < n; i++ {
			joinT(t, m, "r", strconv.Itoa(i), "", 0, false)
		}
		res := joinT(t, m, "r", "last", "", 0, true)
		if !res.OK || res.Count != n+1 || len(res.Members) != MaxListedMembers || res.Members[0].ID != "0" ||
			res.Members[MaxListedMembers-1].ID != strconv.Itoa(MaxListedMembers-1) {
			t.Fatalf("join into %d members: ok %v count %d, %d listed", n, res.OK, res.Count, len(res.Members))
		}
		if got := listT(t, m, "r"); len(got) != MaxListedMembers || got[0].ID != "0" {
			t.Fatalf("list of %d members: %d listed", n+1, len(got))
		}
	}},
	{"member JSON", func(t *testing.T, m Members) {
		joinT(t, m, "r", "a", `{"name":"Ann"}`, 0, false)
		joinT(t, m, "r", "b", "", 0, false)
		out, err := json.Marshal(listT(t, m, "r"))
		if err != nil || string(out) != `[{"id":"a","data":{"name":"Ann"}},{"id":"b"}]` {
			t.Fatalf("JSON: %s %v", out, err)
		}
	}},
	{"closed", func(t *testing.T, m Members) {
		joinT(t, m, "r", "a", "", 0, false)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Join(callCtx(t), "r", "b", nil, 0, false); !errors.Is(err, ErrMembersClosed) {
			t.Fatalf("join after close: %v", err)
		}
		if _, err := m.Leave(callCtx(t), "r", "a", false); !errors.Is(err, ErrMembersClosed) {
			t.Fatalf("leave after close: %v", err)
		}
		if _, err := m.List(callCtx(t), "r"); !errors.Is(err, ErrMembersClosed) {
			t.Fatalf("list after close: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
	}},
}

func TestMembers(t *testing.T) {
	r := redistest.Start(t)
	for _, c := range memberCases {
		t.Run("memory/"+c.name, func(t *testing.T) {
			m := NewMemoryMembers()
			defer m.Close()
			c.run(t, m)
		})
		t.Run("redis/"+c.name, func(t *testing.T) {
			c.run(t, newRedisMembersT(t, r, RedisMembersOptions{Prefix: "t:" + c.name}))
		})
	}
}

// TestMembersRaceBound: 100 goroutines join one room with max 10 at once; exactly 10 get
// in. For Redis they are spread over two stores with separate clients (two nodes).
func TestMembersRaceBound(t *testing.T) {
	const max, perNode = 10, 50
	run := func(t *testing.T, nodes ...Members) {
		var ok atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, len(nodes)*perNode)
		for n, m := range nodes {
			for i := 0; i < perNode*2/len(nodes); i++ {
				wg.Add(1)
				go func(id string) {
					defer wg.Done()
					res, err := m.Join(context.Background(), "room", id, nil, max, false)
					switch {
					case err != nil:
						errs <- err
					case res.OK && (res.Count < 1 || res.Count > max):
						errs <- fmt.Errorf("%s joined with count %d", id, res.Count)
					case !res.OK && res.Count != max:
						errs <- fmt.Errorf("%s refused with count %d", id, res.Count)
					case res.OK:
						ok.Add(1)
					}
				}(fmt.Sprintf("n%d-%d", n, i))
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if ok.Load() != max {
			t.Errorf("%d joins succeeded; want %d", ok.Load(), max)
		}
		for _, m := range nodes {
			if got := listT(t, m, "room"); len(got) != max {
				t.Errorf("room lists %d members; want %d", len(got), max)
			}
		}
	}
	t.Run("memory", func(t *testing.T) {
		m := NewMemoryMembers()
		defer m.Close()
		run(t, m)
	})
	t.Run("redis", func(t *testing.T) {
		_, a, b := twoNodes(t, RedisMembersOptions{})
		run(t, a, b)
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitMembers(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMembersCrash: a node that stops refreshing without Close (a crash) loses its members
// after TTL, and a room only it used vanishes from Redis after 2*TTL; the members of a live
// node stay, however long.
func TestMembersCrash(t *testing.T) {
	const ttl = 300 * time.Millisecond
	r, crashed, live := twoNodes(t, RedisMembersOptions{TTL: ttl})
	joinT(t, crashed, "room", "a1", "", 0, false)
	joinT(t, crashed, "room", "a2", "", 0, false)
	joinT(t, crashed, "alone", "a3", "", 0, false)
	joinT(t, live, "room", "b1", "", 0, false)
	crashed.halt()
	if got := memberIDs(listT(t, live, "room")); !slices.Equal(got, []string{"a1", "a2", "b1"}) {
		t.Fatalf("right after the crash: %v", got) // counted until their TTL runs out
	}
	halted := time.Now()
	waitMembers(t, 10*time.Second, "the crashed node's members still count", func() bool {
		return slices.Equal(memberIDs(listT(t, live, "room")), []string{"b1"})
	})
	if res := joinT(t, live, "room", "b2", "", 2, false); !res.OK || res.Count != 2 {
		t.Fatalf("join after the crashed node's members expired: %+v", res)
	}
	keys := crashed.keys("alone")
	waitMembers(t, 10*time.Second, "the crashed node's own room is still in Redis", func() bool {
		n, err := r.Do(append([]string{"EXISTS"}, keys...)...)
		return err == nil && n == "0"
	})
	// The live node's member joined before the crash and is refreshed: it outlives several TTLs.
	for time.Since(halted) < 4*ttl {
		if got := memberIDs(listT(t, live, "room")); !slices.Equal(got, []string{"b1", "b2"}) {
			t.Fatalf("%v after the crash, the live node's room holds %v", time.Since(halted), got)
		}
		time.Sleep(ttl / 10)
	}
}

// TestMembersClose: Close removes the node's members (other nodes' stay) and stops the
// refresher.
func TestMembersClose(t *testing.T) {
	_, a, b := twoNodes(t, RedisMembersOptions{})
	joinT(t, a, "r1", "a1", "", 0, false)
	joinT(t, a, "r2", "a2", "", 0, false)
	joinT(t, b, "r1", "b1", "", 0, false)
	for i := 0; i < MaxListedMembers+1; i++ { // more than one leave script's worth in one room
		joinT(t, a, "r3", strconv.Itoa(i), "", 0, false)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	default:
		t.Fatal("refresher still running after Close")
	}
	if got := memberIDs(listT(t, b, "r1")); !slices.Equal(got, []string{"b1"}) {
		t.Fatalf("r1 after close: %v", got)
	}
	for _, room := range []string{"r2", "r3"} {
		if got := listT(t, b, room); len(got) != 0 {
			t.Fatalf("%s after close: %d members", room, len(got))
		}
	}
}

// TestMembersRedisDown: without Redis, calls fail within their context rather than hang,
// and work again once Redis is back.
func TestMembersRedisDown(t *testing.T) {
	r, m, other := twoNodes(t, RedisMembersOptions{})
	joinT(t, m, "r", "a", "", 0, false)
	joinT(t, other, "r", "b", "", 0, false)
	r.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if res, err := m.Join(ctx, "r", "c", nil, 0, false); err == nil {
		t.Fatalf("join without Redis: %+v, no error", res)
	}
	if _, err := m.List(ctx, "r"); err == nil {
		t.Fatal("list without Redis: no error")
	}
	if err := other.Close(); err == nil {
		t.Fatal("close without Redis: no error")
	}

	r.Restart(t)
	waitMembers(t, 10*time.Second, "join fails after Redis came back", func() bool {
		res, err := m.Join(callCtx(t), "r", "c", nil, 0, false)
		return err == nil && res.OK
	})
}

// BenchmarkMembers: Join and Leave of the memory store; Join of the Redis store (one
// script round trip).
func BenchmarkMembers(b *testing.B) {
	ctx := context.Background()
	data := []byte(`{"name":"Ann"}`)
	b.Run("memory/join-leave", func(b *testing.B) {
		m := NewMemoryMembers()
		defer m.Close()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := m.Join(ctx, "room", "sock", data, 100, false); err != nil {
				b.Fatal(err)
			}
			if _, err := m.Leave(ctx, "room", "sock", false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("memory/join-list-100", func(b *testing.B) {
		m := NewMemoryMembers()
		defer m.Close()
		for i := 0; i < 99; i++ {
			_, _ = m.Join(ctx, "room", strconv.Itoa(i), data, 0, false)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := m.Join(ctx, "room", "sock", data, 0, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redis/join", func(b *testing.B) {
		r := redistest.Start(b)
		m := newRedisMembersT(b, r, RedisMembersOptions{})
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = strconv.Itoa(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := m.Join(ctx, "room", ids[i%len(ids)], data, 0, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
