package rooms

import (
	"fmt"
	"slices"
	"testing"
)

// A socket's own id room has no room entry; when another socket joins a room of that name,
// the room must still reach the owner as well (Node keeps one set with both). The entry the
// joiner created used to shadow the owner: to(id) reached the joiner only.
func TestRoomNamedLikeASocketID(t *testing.T) {
	a := NewMemory(nil, MemoryOptions{})
	owner, joiner, other := &member{id: "A"}, &member{id: "B"}, &member{id: "C"}
	for _, m := range []*member{owner, joiner, other} {
		a.AddAll(m, []Room{m.id})
	}
	a.AddAll(joiner, []Room{"A"})

	send := func(opts Options) string {
		for _, m := range []*member{owner, joiner, other} {
			m.got = nil
		}
		a.Broadcast(&Packet{Type: 2, Data: []byte(`["e"]`), ID: -1}, &opts)
		return received([]*member{owner, joiner, other})
	}
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Rooms: []Room{"A"}}, "[A:1 B:1 C:0]"},
		{Options{Rooms: []Room{"A", "B"}}, "[A:1 B:1 C:0]"}, // B once
		{Options{Rooms: []Room{"A", "C"}}, "[A:1 B:1 C:1]"},
		{Options{Except: []Room{"A"}}, "[A:0 B:0 C:1]"}, // except(A) skips everyone in A, as in Node
		{Options{Rooms: []Room{"C", "B"}, Except: []Room{"A"}}, "[A:0 B:0 C:1]"},
	} {
		if got := send(tc.opts); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.opts, got, tc.want)
		}
	}
	var acked []string
	_ = a.BroadcastWithAck(&Packet{Type: 2, Data: []byte(`["e"]`), ID: -1}, &Options{Rooms: []Room{"A"}},
		func(m Member) int64 { acked = append(acked, m.ID()); return 1 }, func(int) {}, nil)
	if slices.Sort(acked); fmt.Sprint(acked) != "[A B]" {
		t.Errorf("BroadcastWithAck to A asked %v", acked)
	}

	if ids := sorted(a.Sockets([]Room{"A"})); fmt.Sprint(ids) != "[A B]" {
		t.Errorf("Sockets(A) = %v", ids)
	}
	infos, _ := a.FetchSockets(&Options{Rooms: []Room{"A"}})
	var fetched []string
	for _, in := range infos {
		fetched = append(fetched, fmt.Sprintf("%s%v", in.ID, sorted(in.Rooms)))
	}
	if slices.Sort(fetched); fmt.Sprint(fetched) != "[A[A] B[A B]]" {
		t.Errorf("FetchSockets(A) = %v", fetched)
	}
	if rs := a.Rooms(); countOf(rs, "A") != 1 || countOf(rs, "B") != 1 || len(rs) != 3 {
		t.Errorf("Rooms() = %v, want A, B and C once each", rs)
	}
	if m := a.LocalMember("A"); m != Member(owner) {
		t.Errorf("LocalMember(A) = %v, want the owner", m)
	}

	// socketsLeave(A) from the sockets in A: the joiner leaves, the owner keeps its own room.
	a.DelSockets(&Options{Rooms: []Room{"A"}}, []Room{"A"})
	if got := send(Options{Rooms: []Room{"A"}}); got != "[A:1 B:0 C:0]" {
		t.Errorf("after socketsLeave(A): %s", got)
	}
	if rs := a.SocketRooms("B"); fmt.Sprint(rs) != "[B]" {
		t.Errorf("SocketRooms(B) after socketsLeave = %v", rs)
	}

	// The owner goes: the joiner's room lives on without it, and goes with the joiner.
	a.AddAll(joiner, []Room{"A"})
	a.DelAll(owner)
	if got := send(Options{Rooms: []Room{"A"}}); got != "[A:0 B:1 C:0]" {
		t.Errorf("after the owner left: %s", got)
	}
	a.Del(joiner, "A")
	if a.HasRoom("A") || countOf(a.Rooms(), "A") != 0 {
		t.Error("room A outlived its members")
	}
}

// A socket whose id names a room that already has members (a recovered session keeps its
// id; any client may join any room name meanwhile) gets that room's broadcasts too.
func TestSocketArrivesInARoomNamedLikeIt(t *testing.T) {
	a := NewMemory(nil, MemoryOptions{})
	joiner, owner := &member{id: "B"}, &member{id: "A"}
	a.AddAll(joiner, []Room{"B", "A"})
	a.AddAll(owner, []Room{"A", "r"})
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["e"]`), ID: -1}, &Options{Rooms: []Room{"A"}})
	if got := received([]*member{owner, joiner}); got != "[A:1 B:1]" {
		t.Fatalf("to(A): %s", got)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func countOf(s []string, v string) (n int) {
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// Recovery with a room named like a socket id: what was sent to the id while the socket was
// away is replayed to it, and once back it shares the room with the joiner again.
func TestRecoveryWithARoomNamedLikeASocketID(t *testing.T) {
	a := NewMemory(nil, MemoryOptions{Recovery: true})
	owner, joiner := &member{id: "A"}, &member{id: "B"}
	a.AddAll(owner, []Room{"A", "r"})
	a.AddAll(joiner, []Room{"B", "A"})
	first := &Packet{Type: 2, Data: []byte(`["m",1]`), ID: -1}
	a.Broadcast(first, &Options{Rooms: []Room{"A"}})
	offset := string(first.Data[len(`["m",1,"`) : len(first.Data)-2])
	a.PersistSession(&Session{SID: "A", PID: "pA", Rooms: a.SocketRooms("A")})
	a.DelAll(owner)

	a.Broadcast(&Packet{Type: 2, Data: []byte(`["m",2]`), ID: -1}, &Options{Rooms: []Room{"A"}})
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["m",3]`), ID: -1}, &Options{Except: []Room{"A"}})
	if got := received([]*member{owner, joiner}); got != "[A:1 B:2]" {
		t.Fatalf("while A is away: %s", got)
	}
	s, _ := a.RestoreSession("pA", offset)
	if s == nil || len(s.MissedPackets) != 1 || string(s.MissedPackets[0].Data[:len(`["m",2`)]) != `["m",2` {
		t.Fatalf("restored %+v", s)
	}
	back := &member{id: "A"}
	a.AddAll(back, s.Rooms)
	a.Broadcast(&Packet{Type: 2, Data: []byte(`["m",4]`), ID: -1}, &Options{Rooms: []Room{"A"}})
	if got := received([]*member{back, joiner}); got != "[A:1 B:3]" {
		t.Fatalf("after the restore: %s", got)
	}
}
