package rooms

import (
	"fmt"
	"testing"
	"unsafe"
)

// One socket joins 100,000 rooms (one at a time, as a client's join events arrive), then
// leaves them all: membership, room counts and the registry's leftovers are checked at
// each stage. It took minutes before joins stopped scanning the socket's room list; no
// timing is asserted here (BenchmarkJoinManyRooms measures it).
func TestJoinAndLeaveManyRooms(t *testing.T) {
	const n = 100_000
	a := NewMemory(nil, MemoryOptions{})
	m, peer := &member{id: "m"}, &member{id: "peer"}
	a.AddAll(m, []Room{"m"})
	a.AddAll(peer, []Room{"peer", "r-7", "r-99999"}) // two rooms are shared
	name := func(i int) Room { return fmt.Sprintf("r-%d", i) }
	for i := 0; i < n; i++ {
		a.AddAll(m, []Room{name(i)})
	}
	a.AddAll(m, []Room{name(5), name(n - 1), "m"}) // again, and its own room: no change

	rs := a.SocketRooms("m")
	if len(rs) != n+1 || rs[0] != "m" {
		t.Fatalf("SocketRooms: %d rooms, first %q", len(rs), rs[0])
	}
	for i, r := range rs[1:] { // join order is kept, as in Node's socket.rooms
		if r != name(i) {
			t.Fatalf("SocketRooms[%d] = %q, want %q", i+1, r, name(i))
		}
	}
	if got := len(a.Rooms()); got != n+2 { // r-0..r-99999, m, peer
		t.Fatalf("Rooms: %d, want %d", got, n+2)
	}
	if ids := sorted(a.Sockets([]Room{"r-7"})); fmt.Sprint(ids) != "[m peer]" {
		t.Fatalf("Sockets(r-7) = %v", ids)
	}

	// Leave every other room first (the index must survive holes), then the rest backwards.
	for i := 0; i < n; i += 2 {
		a.Del(m, name(i))
	}
	a.Del(m, name(0)) // a room it is no longer in: no change
	rs = a.SocketRooms("m")
	if len(rs) != n/2+1 {
		t.Fatalf("after leaving half: %d rooms", len(rs))
	}
	for i, r := range rs[1:] {
		if r != name(2*i+1) {
			t.Fatalf("after leaving half: SocketRooms[%d] = %q, want %q", i+1, r, name(2*i+1))
		}
	}
	a.AddAll(m, []Room{name(0)}) // rejoined: at the end, as in Node
	if rs = a.SocketRooms("m"); rs[len(rs)-1] != name(0) || len(rs) != n/2+2 {
		t.Fatalf("rejoin: %d rooms, last %q", len(rs), rs[len(rs)-1])
	}
	a.Del(m, name(0))
	for i := n - 1; i > 0; i -= 2 {
		a.Del(m, name(i))
	}

	if rs := a.SocketRooms("m"); fmt.Sprint(rs) != "[m]" {
		t.Fatalf("after leaving all: %v", rs)
	}
	if ids := sorted(a.Sockets([]Room{"r-7", "r-99999"})); fmt.Sprint(ids) != "[peer]" {
		t.Fatalf("shared rooms after m left: %v", ids)
	}
	if rs := sorted(a.Rooms()); fmt.Sprint(rs) != "[m peer r-7 r-99999]" {
		t.Fatalf("Rooms after leaving all: %d rooms", len(rs))
	}
	rooms, solo := 0, 0
	for i := range a.rooms {
		rooms += len(a.rooms[i].m)
		solo += len(a.rooms[i].solo)
	}
	if rooms != 0 || solo != 2 {
		t.Fatalf("room shards hold %d sets and %d solo rooms, want 0 and 2 (peer's)", rooms, solo)
	}
	e := a.members[shardOf("m")].m["m"]
	if cap(e.rooms) > 64 { // 1.6 MB of string headers for a socket in no room
		t.Fatalf("m's entry kept a backing array of %d rooms", cap(e.rooms))
	}
	a.AddAll(m, []Room{"again"})
	a.DelAll(m)
	if a.HasRoom("again") || a.HasSocket("m") || len(a.Rooms()) != 3 {
		t.Fatalf("left behind after DelAll: %v", a.Rooms())
	}
}

// The same through DelAll with many rooms held, and through a second socket object with the
// same id (a recovered session) replacing the first.
func TestDelAllManyRooms(t *testing.T) {
	a := NewMemory(nil, MemoryOptions{})
	m := &member{id: "m"}
	for i := 0; i < 1000; i++ {
		a.AddAll(m, []Room{fmt.Sprintf("r-%d", i)})
	}
	for i := 0; i < 1000; i += 3 {
		a.Del(m, fmt.Sprintf("r-%d", i))
	}
	again := &member{id: "m"}
	a.AddAll(again, []Room{"r-1", "new"}) // the stale socket's rooms go
	if rs := sorted(a.SocketRooms("m")); fmt.Sprint(rs) != "[m new r-1]" {
		t.Fatalf("after replacement: %v", rs)
	}
	if rs := sorted(a.Rooms()); fmt.Sprint(rs) != "[m new r-1]" {
		t.Fatalf("rooms after replacement: %d", len(rs))
	}
	a.DelAll(again)
	if rs := a.Rooms(); len(rs) != 0 {
		t.Fatalf("rooms after DelAll: %d", len(rs))
	}
}

// An idle socket's membership (its own id room plus a room or two) is what a million
// clients pay for: the entry stays in the 48-byte size class.
func TestMemberEntrySize(t *testing.T) {
	if s := unsafe.Sizeof(memberEntry{}); s > 48 {
		t.Fatalf("memberEntry is %d bytes, want at most 48", s)
	}
}
