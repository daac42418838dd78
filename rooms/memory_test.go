package rooms

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// member records what the adapter delivers to it.
type member struct {
	id         string
	mu         sync.Mutex
	got        []string
	disconnect int
}

func (m *member) ID() SocketID { return m.id }
func (m *member) Deliver(p *Packet, volatile bool) {
	m.mu.Lock()
	m.got = append(m.got, fmt.Sprintf("%s/%v", p.Data, volatile))
	m.mu.Unlock()
}
func (m *member) Disconnect(bool)    { m.disconnect++ }
func (m *member) Data() any          { return nil }
func (m *member) HandshakeData() any { return nil }

func setup() (*Memory, []*member) {
	a := NewMemory(nil, MemoryOptions{})
	ms := []*member{{id: "a"}, {id: "b"}, {id: "c"}}
	for _, m := range ms {
		a.AddAll(m, []Room{m.id})
	}
	a.AddAll(ms[0], []Room{"x", "y"})
	a.AddAll(ms[1], []Room{"x"})
	a.AddAll(ms[2], []Room{"y"})
	return a, ms
}

func received(ms []*member) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s:%d", m.id, len(m.got)))
	}
	return fmt.Sprint(out)
}

func TestBroadcastSelection(t *testing.T) {
	cases := []struct {
		opts Options
		want string
	}{
		{Options{}, "[a:1 b:1 c:1]"},
		{Options{Rooms: []Room{"x"}}, "[a:1 b:1 c:0]"},
		{Options{Rooms: []Room{"x", "y"}}, "[a:1 b:1 c:1]"}, // a is in both: once
		{Options{Rooms: []Room{"x"}, Except: []Room{"a"}}, "[a:0 b:1 c:0]"},
		{Options{Except: []Room{"y"}}, "[a:0 b:1 c:0]"},
		{Options{Rooms: []Room{"nobody"}}, "[a:0 b:0 c:0]"},
		{Options{Rooms: []Room{"c"}}, "[a:0 b:0 c:1]"}, // a socket's own id room
	}
	for _, tc := range cases {
		a, ms := setup()
		a.Broadcast(&Packet{Type: 2, Data: []byte(`["e"]`), ID: -1}, &tc.opts)
		if got := received(ms); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.opts, got, tc.want)
		}
	}
}

func TestMembershipQueries(t *testing.T) {
	a, ms := setup()
	ids := a.Sockets([]Room{"y"})
	sort.Strings(ids)
	if fmt.Sprint(ids) != "[a c]" {
		t.Fatalf("Sockets(y) = %v", ids)
	}
	rs := a.SocketRooms("a")
	sort.Strings(rs)
	if fmt.Sprint(rs) != "[a x y]" {
		t.Fatalf("SocketRooms(a) = %v", rs)
	}
	a.Del(ms[0], "x")
	a.AddSockets(&Options{Rooms: []Room{"y"}}, []Room{"z"})
	a.DelSockets(&Options{Rooms: []Room{"c"}}, []Room{"y"})
	if ids := a.Sockets([]Room{"z"}); len(ids) != 2 {
		t.Fatalf("Sockets(z) = %v", ids)
	}
	if ids := a.Sockets([]Room{"y"}); fmt.Sprint(ids) != "[a]" {
		t.Fatalf("Sockets(y) after DelSockets = %v", ids)
	}
	a.DisconnectSockets(&Options{Rooms: []Room{"z"}}, false)
	if ms[0].disconnect != 1 || ms[2].disconnect != 1 || ms[1].disconnect != 0 {
		t.Fatal("DisconnectSockets hit the wrong members")
	}
	a.DelAll(ms[0])
	if a.SocketRooms("a") != nil {
		t.Fatal("rooms left after DelAll")
	}
	for _, r := range a.Rooms() {
		if r == "x" && len(a.Sockets([]Room{"x"})) != 1 {
			t.Fatal("room x should hold only b")
		}
	}
}

func TestRecoveryStoreAndRestore(t *testing.T) {
	a := NewMemory(nil, MemoryOptions{Recovery: true, MaxDisconnectionDuration: 200 * time.Millisecond})
	m := &member{id: "s1"}
	a.AddAll(m, []Room{"s1", "r"})
	first := &Packet{Type: 2, Data: []byte(`["m",1]`), ID: -1}
	a.Broadcast(first, &Options{Rooms: []Room{"r"}})
	offset := string(first.Data[len(`["m",1,"`) : len(first.Data)-2])
	if len(offset) == 0 || string(first.Data) != `["m",1,"`+offset+`"]` {
		t.Fatalf("offset not appended: %s", first.Data)
	}
	// Volatile and ack broadcasts are not stored and carry no offset.
	v := &Packet{Type: 2, Data: []byte(`["v"]`), ID: -1}
	a.Broadcast(v, &Options{Flags: Flags{Volatile: true}})
	if string(v.Data) != `["v"]` {
		t.Fatalf("volatile packet changed: %s", v.Data)
	}
	a.PersistSession(&Session{SID: "s1", PID: "p1", Rooms: []Room{"s1", "r"}, Data: "d"})
	a.DelAll(m)
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["m",2]`), ID: -1}, &Options{Rooms: []Room{"r"}})
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["other"]`), ID: -1}, &Options{Rooms: []Room{"elsewhere"}})
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["except"]`), ID: -1}, &Options{Except: []Room{"r"}})
	a.Broadcast(&Packet{Type: 5, Data: []byte(`["bin",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}, ID: -1}, &Options{})

	if s, _ := a.RestoreSession("p1", "unknown-offset"); s != nil {
		t.Fatal("restored with an unknown offset")
	}
	s, err := a.RestoreSession("p1", offset)
	if err != nil || s == nil || s.SID != "s1" || s.Data != "d" {
		t.Fatalf("restore: %+v %v", s, err)
	}
	var missed []string
	for _, p := range s.MissedPackets {
		missed = append(missed, string(p.Data[:len(p.Data)-len(offset)-4]))
	}
	if fmt.Sprint(missed) != `[["m",2 ["bin",{"_placeholder":true,"num":0}]` {
		t.Fatalf("missed %q", missed)
	}
	time.Sleep(250 * time.Millisecond)
	if s, _ := a.RestoreSession("p1", offset); s != nil {
		t.Fatal("restored after maxDisconnectionDuration")
	}
}

// A room goes from one member (no set allocated) to a set and back, answering the same.
func TestRoomGrowsAndShrinks(t *testing.T) {
	a := NewMemory(nil, MemoryOptions{})
	x, y := &member{id: "x"}, &member{id: "y"}
	a.AddAll(x, []Room{"x", "r"})
	a.AddAll(y, []Room{"y"})
	count := func() int { return len(a.Sockets([]Room{"r"})) }
	if count() != 1 || !a.HasRoom("r") {
		t.Fatal("solo room not found")
	}
	a.AddAll(y, []Room{"r"})
	a.AddAll(y, []Room{"r"}) // twice: still once
	if count() != 2 {
		t.Fatalf("members after the second join: %d", count())
	}
	a.Del(x, "r")
	if ids := a.Sockets([]Room{"r"}); fmt.Sprint(ids) != "[y]" {
		t.Fatalf("after x left: %v", ids)
	}
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["e"]`), ID: -1}, &Options{Rooms: []Room{"r"}})
	if len(x.got) != 0 || len(y.got) != 1 {
		t.Fatalf("delivered to x %d, y %d", len(x.got), len(y.got))
	}
	a.DelAll(y)
	if a.HasRoom("r") || count() != 0 {
		t.Fatal("room outlived its last member")
	}
	for _, r := range a.Rooms() {
		if r == "r" {
			t.Fatal("Rooms lists an empty room")
		}
	}
}

// Stats counts broadcasts and the members each reached, and the rooms with members (not the
// sockets' own id rooms).
func TestMemoryStats(t *testing.T) {
	a, ms := setup()
	if st := a.Stats(); st != (MemoryStats{Rooms: 2}) {
		t.Fatalf("after setup: %+v", st)
	}
	a.Broadcast(&Packet{Data: []byte(`["x"]`), ID: -1}, &Options{Rooms: []Room{"x"}})
	a.Broadcast(&Packet{Data: []byte(`["all"]`), ID: -1}, &Options{})
	_ = a.BroadcastWithAck(&Packet{Data: []byte(`["y"]`), ID: -1}, &Options{Rooms: []Room{"y"}},
		func(Member) int64 { return 1 }, func(int) {}, nil)
	a.AddAll(ms[2], []Room{"z"})
	if st := a.Stats(); st != (MemoryStats{Broadcasts: 3, Deliveries: 2 + 3 + 2, Rooms: 3}) {
		t.Fatalf("after three broadcasts and a join: %+v", st)
	}
	a.DelAll(ms[0])
	a.DelAll(ms[1])
	if st := a.Stats(); st.Rooms != 2 { // y (c) and z (c)
		t.Fatalf("after two leave: %+v", st)
	}
}
