package rooms

import (
	"hash/maphash"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryOptions configure the in-memory adapter.
type MemoryOptions struct {
	// Recovery turns on connection state recovery: broadcast events get an offset and are
	// kept for MaxDisconnectionDuration, and dropped sockets' sessions are kept as long.
	Recovery bool
	// MaxDisconnectionDuration; default 2 minutes (the reference's default).
	MaxDisconnectionDuration time.Duration
}

// Deliverer is implemented by hosts that deliver one packet to many members at once: the
// server encodes it once and hands each event loop a single task (see server/engine).
type Deliverer interface {
	DeliverAll(p *Packet, members []Member, volatile bool)
}

// RoomWatcher is implemented by hosts that want to hear of every membership change: the
// server's observers (server/adminui's room feed). Memory calls MemberJoined after a member
// was added to a room it was not in and MemberLeft after it was removed from one (leaving
// every room on disconnect included), outside its locks, from the goroutine that made the
// change; the socket's own id room is implicit and never reported. The methods must not
// block. A host that watches nothing returns at once: the cost is one call per change.
type RoomWatcher interface {
	MemberJoined(id SocketID, room Room)
	MemberLeft(id SocketID, room Room)
}

// shardCount spreads rooms and members over independent locks, so joins, leaves and
// broadcasts on different rooms do not contend.
const shardCount = 32

// Memory is the in-memory adapter: rooms of one namespace on one node.
//
// Rooms live in shardCount shards keyed by room name, members in shardCount shards keyed by
// socket id. A socket's own id room has no room entry: it is answered from the member shard,
// which every socket has an entry in anyway. A room named like a socket id is then the union
// of the room entry (other sockets that joined it) and the socket itself.
//
// Locks: a broadcast takes one shard's read lock at a time; a join takes the member shard,
// releases it, then takes room shards one at a time. Only Rooms holds two: a member shard,
// then the room shard of the same index. Nothing takes a member shard under a room shard.
type Memory struct {
	opts    MemoryOptions
	deliver Deliverer
	watch   RoomWatcher // nil when the host watches nothing

	rooms   [shardCount]roomShard
	members [shardCount]memberShard

	// recovery state
	recMu    sync.Mutex
	packets  []storedPacket
	sessions map[string]storedSession
	offset   atomic.Uint64

	broadcasts, deliveries atomic.Uint64 // see MemoryStats
}

// roomShard holds the rooms whose names hash to it. A room with one member (a user's
// private room, the common case at scale) costs one entry in solo; a set is allocated only
// when a second member joins.
type roomShard struct {
	mu   sync.RWMutex
	m    map[Room]map[Member]struct{}
	solo map[Room]Member
}

// add puts m in room. Caller holds mu.
func (rs *roomShard) add(room Room, m Member) {
	if set := rs.m[room]; set != nil {
		set[m] = struct{}{}
		return
	}
	other, ok := rs.solo[room]
	switch {
	case !ok:
		rs.solo[room] = m
	case other != m:
		delete(rs.solo, room)
		rs.m[room] = map[Member]struct{}{other: {}, m: {}}
	}
}

// del removes m from room. Caller holds mu.
func (rs *roomShard) del(room Room, m Member) {
	if rs.solo[room] == m {
		delete(rs.solo, room)
		return
	}
	if set := rs.m[room]; set != nil {
		delete(set, m)
		switch len(set) {
		case 0:
			delete(rs.m, room)
		case 1: // back to a solo room: the set's memory goes
			for last := range set {
				rs.solo[room] = last
			}
			delete(rs.m, room)
		}
	}
}

// each calls f for each member of room. Caller holds mu.
func (rs *roomShard) each(room Room, f func(Member)) {
	if m, ok := rs.solo[room]; ok {
		f(m)
		return
	}
	for m := range rs.m[room] {
		f(m)
	}
}

// has reports whether room has an entry here. Caller holds mu.
func (rs *roomShard) has(room Room) bool {
	_, solo := rs.solo[room]
	return solo || rs.m[room] != nil
}

type memberShard struct {
	mu sync.RWMutex
	m  map[SocketID]*memberEntry
}

// indexAt is how many rooms a socket holds before its entry gets an index: up to it a
// linear scan is cheaper than a map (and costs no memory), past it the scan made joins
// quadratic (100,000 joins from one socket took 42.7 s).
const indexAt = 16

// memberEntry is one socket's membership: the rooms it joined besides its own id room, in
// join order (Node's socket.rooms is an ordered set). Usually a handful, so a slice beats a
// set: the entry is 48 bytes. Past indexAt rooms, at maps each room to its slot in rooms;
// a leave then leaves a hole (a slot whose room does not map back to it), and the holes are
// squeezed out once they outnumber the rooms, so join and leave are O(1) amortised.
type memberEntry struct {
	m     Member
	rooms []Room
	at    map[Room]int
}

// live reports whether slot i of e.rooms holds a room the socket is in.
func (e *memberEntry) live(i int) bool {
	if e.at == nil {
		return true
	}
	j, ok := e.at[e.rooms[i]]
	return ok && j == i
}

// has reports whether the socket is in r (its own id room aside).
func (e *memberEntry) has(r Room) bool {
	if e.at != nil {
		_, ok := e.at[r]
		return ok
	}
	return slices.Contains(e.rooms, r)
}

// count is the number of rooms the socket joined (its own id room aside).
func (e *memberEntry) count() int {
	if e.at != nil {
		return len(e.at)
	}
	return len(e.rooms)
}

// add puts r at the end and reports whether it was new.
func (e *memberEntry) add(r Room) bool {
	if e.has(r) {
		return false
	}
	e.rooms = append(e.rooms, r)
	switch {
	case e.at != nil:
		e.at[r] = len(e.rooms) - 1
	case len(e.rooms) > indexAt:
		e.at = make(map[Room]int, 2*len(e.rooms))
		for i, x := range e.rooms {
			e.at[x] = i
		}
	}
	return true
}

// del takes r out and reports whether the socket was in it.
func (e *memberEntry) del(r Room) bool {
	if e.at == nil {
		i := slices.Index(e.rooms, r)
		if i < 0 {
			return false
		}
		e.rooms = slices.Delete(e.rooms, i, i+1)
		return true
	}
	i, ok := e.at[r]
	if !ok {
		return false
	}
	delete(e.at, r)
	e.rooms[i] = "" // a hole: "" maps elsewhere or nowhere; the name's memory goes now
	if i == len(e.rooms)-1 {
		e.rooms = e.rooms[:i]
	}
	if holes := len(e.rooms) - len(e.at); holes > len(e.at) || len(e.at) <= indexAt/2 {
		e.compact()
	}
	return true
}

// compact squeezes the holes out of rooms, keeping the order. It runs when the holes
// outnumber the rooms, so its cost is paid for by the leaves that made them, and once more
// when the socket is back to indexAt/2 rooms: then it loses its index, and its backing
// array when that is mostly empty.
func (e *memberEntry) compact() {
	n := 0
	for i, r := range e.rooms {
		if j, ok := e.at[r]; ok && j == i {
			e.rooms[n] = r
			e.at[r] = n
			n++
		}
	}
	clear(e.rooms[n:])
	e.rooms = e.rooms[:n]
	if n <= indexAt/2 {
		e.at = nil
	}
	if cap(e.rooms) > 4*indexAt && cap(e.rooms) > 4*n {
		e.rooms = slices.Clone(e.rooms)
		if e.at != nil { // a map keeps its buckets after deletes: rebuild it at its size
			at := make(map[Room]int, len(e.at))
			for k, v := range e.at {
				at[k] = v
			}
			e.at = at
		}
	}
}

// each calls f for each room the socket joined, in join order.
func (e *memberEntry) each(f func(Room)) {
	for i, r := range e.rooms {
		if e.live(i) {
			f(r)
		}
	}
}

type storedPacket struct {
	id      string
	rooms   []Room
	except  []Room
	packet  *Packet
	emitted time.Time
}

type storedSession struct {
	s            *Session
	disconnected time.Time
}

// NewMemory returns an empty in-memory adapter for host (nil is allowed: members are then
// delivered to one by one).
func NewMemory(host Host, opts MemoryOptions) *Memory {
	if opts.MaxDisconnectionDuration <= 0 {
		opts.MaxDisconnectionDuration = 2 * time.Minute
	}
	a := &Memory{opts: opts, sessions: map[string]storedSession{}}
	if d, ok := host.(Deliverer); ok {
		a.deliver = d
	}
	if w, ok := host.(RoomWatcher); ok {
		a.watch = w
	}
	for i := range a.rooms {
		a.rooms[i].m = map[Room]map[Member]struct{}{}
		a.rooms[i].solo = map[Room]Member{}
		a.members[i].m = map[SocketID]*memberEntry{}
	}
	// Offsets only need to be unique and unguessable enough not to collide across restarts.
	a.offset.Store(uint64(time.Now().UnixNano()))
	return a
}

func shardOf(key string) int { return int(maphash.String(seed, key) % shardCount) }

var seed = maphash.MakeSeed()

// AddAll implements Adapter.
func (a *Memory) AddAll(m Member, rooms []Room) {
	id := m.ID()
	ms := &a.members[shardOf(id)]
	ms.mu.Lock()
	e := ms.m[id]
	var stale *memberEntry
	if e == nil || e.m != m {
		stale = e // another socket with this id (a recovered session): forget its rooms
		e = &memberEntry{m: m}
		ms.m[id] = e
	}
	var buf [4]Room // a join names one room or a few: no allocation for the list
	added := buf[:0]
	for _, r := range rooms {
		if r != id && e.add(r) {
			added = append(added, r)
		}
	}
	ms.mu.Unlock()
	if stale != nil {
		stale.each(func(r Room) { a.delFromRoom(stale.m, r) })
	}
	for _, r := range added {
		rs := &a.rooms[shardOf(r)]
		rs.mu.Lock()
		rs.add(r, m)
		rs.mu.Unlock()
		if a.watch != nil {
			a.watch.MemberJoined(id, r)
		}
	}
}

// Del implements Adapter.
func (a *Memory) Del(m Member, room Room) {
	id := m.ID()
	if room == id {
		return // the own id room lasts as long as the socket
	}
	ms := &a.members[shardOf(id)]
	ms.mu.Lock()
	e := ms.m[id]
	found := e != nil && e.m == m && e.del(room)
	ms.mu.Unlock()
	if found {
		a.delFromRoom(m, room)
		if a.watch != nil {
			a.watch.MemberLeft(id, room)
		}
	}
}

func (a *Memory) delFromRoom(m Member, room Room) {
	rs := &a.rooms[shardOf(room)]
	rs.mu.Lock()
	rs.del(room, m)
	rs.mu.Unlock()
}

// DelAll implements Adapter.
func (a *Memory) DelAll(m Member) {
	id := m.ID()
	ms := &a.members[shardOf(id)]
	ms.mu.Lock()
	e := ms.m[id]
	if e == nil || e.m != m {
		ms.mu.Unlock()
		return
	}
	delete(ms.m, id)
	ms.mu.Unlock()
	e.each(func(r Room) {
		a.delFromRoom(m, r)
		if a.watch != nil {
			a.watch.MemberLeft(id, r)
		}
	})
}

// LocalMember returns the socket with id if it is on this node, else nil. Safe for
// concurrent use.
func (a *Memory) LocalMember(id SocketID) Member { return a.member(id) }

// member returns the socket with id, if it is here.
func (a *Memory) member(id SocketID) Member { return a.members[shardOf(id)].get(id) }

// get returns the socket with id, if it is in this shard.
func (ms *memberShard) get(id SocketID) Member {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	if e := ms.m[id]; e != nil {
		return e.m
	}
	return nil
}

// inRoom calls f for each member of room, its owner included when room is a socket's id.
// The owner is not in the room's entry (it has none of its own), so a room entry of that
// name, created by another socket joining it, must not hide it: Node keeps one set with
// both, and to(id) reaches both.
func (a *Memory) inRoom(room Room, f func(Member)) {
	i := shardOf(room) // rooms and members shard on the same hash
	rs := &a.rooms[i]
	rs.mu.RLock()
	rs.each(room, f)
	rs.mu.RUnlock()
	if m := a.members[i].get(room); m != nil {
		f(m)
	}
}

var memberSlices = sync.Pool{New: func() any { s := make([]Member, 0, 64); return &s }}

// match appends the members selected by opts to dst, each once.
func (a *Memory) match(dst []Member, opts *Options) []Member {
	var except map[Member]struct{}
	if len(opts.Except) > 0 {
		except = map[Member]struct{}{}
		for _, r := range opts.Except {
			a.inRoom(r, func(m Member) { except[m] = struct{}{} })
		}
	}
	keep := func(m Member) bool {
		_, x := except[m]
		return !x
	}
	switch len(opts.Rooms) {
	case 0:
		for i := range a.members {
			ms := &a.members[i]
			ms.mu.RLock()
			for _, e := range ms.m {
				if keep(e.m) {
					dst = append(dst, e.m)
				}
			}
			ms.mu.RUnlock()
		}
	case 1:
		a.inRoom(opts.Rooms[0], func(m Member) {
			if keep(m) {
				dst = append(dst, m)
			}
		})
	default:
		seen := map[Member]struct{}{}
		for _, r := range opts.Rooms {
			a.inRoom(r, func(m Member) {
				if _, dup := seen[m]; !dup && keep(m) {
					seen[m] = struct{}{}
					dst = append(dst, m)
				}
			})
		}
	}
	return dst
}

// Broadcast implements Adapter: the members are collected, then delivered to outside the
// locks, all at once when the host can (encode once, one task per event loop).
func (a *Memory) Broadcast(p *Packet, opts *Options) {
	if a.opts.Recovery && Recoverable(p, opts) {
		a.store(p, opts)
	}
	buf := memberSlices.Get().(*[]Member)
	ms := a.match((*buf)[:0], opts)
	a.counted(len(ms))
	if a.deliver != nil {
		a.deliver.DeliverAll(p, ms, opts.Flags.Volatile)
	} else {
		for _, m := range ms {
			m.Deliver(p, opts.Flags.Volatile)
		}
	}
	clear(ms)
	*buf = ms[:0]
	memberSlices.Put(buf)
}

// Recoverable reports whether connection state recovery stores the broadcast of p with
// opts (and gives it an offset): events (EVENT or BINARY_EVENT), not volatile, without
// acks, as the reference's SessionAwareAdapter decides.
func Recoverable(p *Packet, opts *Options) bool {
	return p.ID < 0 && !opts.Flags.Volatile && (p.Type == 2 || p.Type == 5)
}

// BroadcastWithAck implements Adapter: there are no other nodes, so onReply is never called.
func (a *Memory) BroadcastWithAck(p *Packet, opts *Options, ackID func(Member) int64, onCount func(int), _ func([]byte, [][]byte)) error {
	ms := a.match(nil, opts)
	a.counted(len(ms))
	onCount(len(ms))
	for _, m := range ms {
		q := p.Copy() // the ack id differs per member, so each encodes its own
		q.ID = ackID(m)
		m.Deliver(q, opts.Flags.Volatile)
	}
	return nil
}

// HasRoom reports whether room has members here (a socket's own id room included), for
// cluster adapters that skip messages for rooms this node does not have. Safe for
// concurrent use.
func (a *Memory) HasRoom(room Room) bool {
	rs := &a.rooms[shardOf(room)]
	rs.mu.RLock()
	found := rs.has(room)
	rs.mu.RUnlock()
	return found || a.member(room) != nil
}

// HasSocket reports whether the socket with id is here. Safe for concurrent use.
func (a *Memory) HasSocket(id SocketID) bool { return a.member(id) != nil }

// Sockets implements Adapter.
func (a *Memory) Sockets(rooms []Room) []SocketID {
	ms := a.match(nil, &Options{Rooms: rooms})
	ids := make([]SocketID, len(ms))
	for i, m := range ms {
		ids[i] = m.ID()
	}
	return ids
}

// InRoom reports whether socket id is in room: its own id room, or one it joined. It
// allocates nothing, for checks on every event (the tier's "publish requires membership").
func (a *Memory) InRoom(id SocketID, room Room) bool {
	if room == id {
		return a.member(id) != nil
	}
	ms := &a.members[shardOf(id)]
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	e := ms.m[id]
	return e != nil && e.has(room)
}

// SocketRooms implements Adapter: the socket's own id room first.
func (a *Memory) SocketRooms(id SocketID) []Room {
	ms := &a.members[shardOf(id)]
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	e := ms.m[id]
	if e == nil {
		return nil
	}
	out := make([]Room, 0, 1+e.count())
	out = append(out, id)
	if e.at == nil {
		return append(out, e.rooms...)
	}
	e.each(func(r Room) { out = append(out, r) })
	return out
}

// FetchSockets implements Adapter.
func (a *Memory) FetchSockets(opts *Options) ([]SocketInfo, error) {
	ms := a.match(nil, opts)
	out := make([]SocketInfo, len(ms))
	for i, m := range ms {
		out[i] = SocketInfo{ID: m.ID(), Rooms: a.SocketRooms(m.ID()), Member: m}
	}
	return out, nil
}

// AddSockets implements Adapter.
func (a *Memory) AddSockets(opts *Options, rooms []Room) {
	for _, m := range a.match(nil, opts) {
		a.AddAll(m, rooms)
	}
}

// DelSockets implements Adapter.
func (a *Memory) DelSockets(opts *Options, rooms []Room) {
	for _, m := range a.match(nil, opts) {
		for _, r := range rooms {
			a.Del(m, r)
		}
	}
}

// DisconnectSockets implements Adapter.
func (a *Memory) DisconnectSockets(opts *Options, close bool) {
	for _, m := range a.match(nil, opts) {
		m.Disconnect(close)
	}
}

// ServerSideEmit implements Adapter: a single node has no one to tell; an ack is answered at
// once with no replies, as the reference's in-memory adapter does.
func (a *Memory) ServerSideEmit(_ *Packet, onCount func(int), _ func([]byte, [][]byte)) error {
	if onCount != nil {
		onCount(0)
	}
	return nil
}

// Rooms implements Adapter (socket id rooms included, as in the reference), each once: a
// socket id that other sockets joined as a room is both a member and a room entry.
func (a *Memory) Rooms() []Room {
	var out []Room
	for i := range a.rooms {
		rs := &a.rooms[i]
		rs.mu.RLock()
		for r := range rs.m {
			out = append(out, r)
		}
		for r := range rs.solo {
			out = append(out, r)
		}
		rs.mu.RUnlock()
	}
	for i := range a.members {
		ms, rs := &a.members[i], &a.rooms[i]
		ms.mu.RLock()
		rs.mu.RLock() // the one place holding two locks: member shard first (see Memory)
		for id := range ms.m {
			if !rs.has(id) {
				out = append(out, id)
			}
		}
		rs.mu.RUnlock()
		ms.mu.RUnlock()
	}
	return out
}

// Close implements Adapter.
func (a *Memory) Close() error { return nil }

// MemoryStats are an in-memory adapter's counters and its number of rooms.
type MemoryStats struct {
	// Broadcasts counts the broadcasts delivered to this node's members (with or without
	// acks; a cluster adapter's broadcasts from other nodes included); Deliveries counts
	// the members each was handed to (volatile drops happen later, in the transport).
	Broadcasts, Deliveries uint64
	// Rooms is the number of rooms with members here, not counting the rooms named by each
	// socket's own id.
	Rooms int
}

// Stats returns the counters, and counts the rooms (a read lock per shard, no copy).
// Safe for concurrent use.
func (a *Memory) Stats() MemoryStats {
	st := MemoryStats{Broadcasts: a.broadcasts.Load(), Deliveries: a.deliveries.Load()}
	for i := range a.rooms {
		rs := &a.rooms[i]
		rs.mu.RLock()
		st.Rooms += len(rs.m) + len(rs.solo)
		rs.mu.RUnlock()
	}
	return st
}

// counted counts one broadcast handed to n members.
func (a *Memory) counted(n int) {
	a.broadcasts.Add(1)
	a.deliveries.Add(uint64(n))
}

// store appends the offset argument to p and keeps it for recovery.
func (a *Memory) store(p *Packet, opts *Options) {
	id := strconv.FormatUint(a.offset.Add(1), 36)
	p.Data = AppendOffset(p.Data, id)
	now := time.Now()
	a.recMu.Lock()
	defer a.recMu.Unlock()
	a.expireLocked(now)
	a.packets = append(a.packets, storedPacket{
		id: id, rooms: append([]Room(nil), opts.Rooms...), except: append([]Room(nil), opts.Except...),
		packet: p, emitted: now,
	})
}

// AppendOffset returns a copy of the JSON array data with the offset as a last string
// argument, as recovery hands it to clients. Offsets are digits, letters and '-' (base 36
// here, Redis stream ids in rooms/redis), so no escaping is needed.
func AppendOffset(data []byte, s string) []byte {
	end := len(data) - 1
	for end > 0 && data[end] != ']' {
		end--
	}
	out := make([]byte, 0, end+len(s)+4)
	out = append(out, data[:end]...)
	out = append(out, ',', '"')
	out = append(out, s...)
	return append(out, '"', ']')
}

func (a *Memory) expireLocked(now time.Time) {
	threshold := now.Add(-a.opts.MaxDisconnectionDuration)
	i := 0
	for i < len(a.packets) && a.packets[i].emitted.Before(threshold) {
		a.packets[i] = storedPacket{}
		i++
	}
	if i > 0 {
		a.packets = append(a.packets[:0], a.packets[i:]...)
	}
	for pid, s := range a.sessions {
		if s.disconnected.Before(threshold) {
			delete(a.sessions, pid)
		}
	}
}

// PersistSession implements SessionStore.
func (a *Memory) PersistSession(s *Session) {
	a.recMu.Lock()
	defer a.recMu.Unlock()
	a.sessions[s.PID] = storedSession{s: s, disconnected: time.Now()}
}

// RestoreSession implements SessionStore, as the reference's SessionAwareAdapter.
func (a *Memory) RestoreSession(pid, offset string) (*Session, error) {
	a.recMu.Lock()
	defer a.recMu.Unlock()
	st, ok := a.sessions[pid]
	if !ok {
		return nil, nil
	}
	if time.Since(st.disconnected) > a.opts.MaxDisconnectionDuration {
		delete(a.sessions, pid)
		return nil, nil
	}
	index := -1
	for i := range a.packets {
		if a.packets[i].id == offset {
			index = i
			break
		}
	}
	if index < 0 {
		return nil, nil
	}
	s := *st.s
	s.MissedPackets = nil
	for _, sp := range a.packets[index+1:] {
		if s.Includes(sp.rooms, sp.except) {
			s.MissedPackets = append(s.MissedPackets, sp.packet)
		}
	}
	return &s, nil
}

// Includes reports whether a broadcast to rooms (none: everyone) except the rooms in except
// reached a socket in the session's rooms, for the packets recovery replays.
func (s *Session) Includes(rooms, except []Room) bool {
	in := len(rooms) == 0
	for _, r := range s.Rooms {
		for _, x := range except {
			if r == x {
				return false
			}
		}
		if !in {
			for _, x := range rooms {
				if r == x {
					in = true
				}
			}
		}
	}
	return in
}
