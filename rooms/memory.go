package rooms

import (
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

// Memory is the in-memory adapter: rooms of one namespace on one node.
type Memory struct {
	opts MemoryOptions

	mu      sync.RWMutex
	rooms   map[Room]map[Member]struct{}
	members map[Member]map[Room]struct{}
	byID    map[SocketID]Member

	// recovery state
	recMu    sync.Mutex
	packets  []storedPacket
	sessions map[string]storedSession
	offset   atomic.Uint64
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

// NewMemory returns an empty in-memory adapter.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.MaxDisconnectionDuration <= 0 {
		opts.MaxDisconnectionDuration = 2 * time.Minute
	}
	m := &Memory{
		opts:     opts,
		rooms:    map[Room]map[Member]struct{}{},
		members:  map[Member]map[Room]struct{}{},
		byID:     map[SocketID]Member{},
		sessions: map[string]storedSession{},
	}
	// Offsets only need to be unique and unguessable enough not to collide across restarts.
	m.offset.Store(uint64(time.Now().UnixNano()))
	return m
}

// AddAll implements Adapter.
func (a *Memory) AddAll(m Member, rooms []Room) {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.members[m]
	if mine == nil {
		mine = make(map[Room]struct{}, len(rooms))
		a.members[m] = mine
		a.byID[m.ID()] = m
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
		set := a.rooms[r]
		if set == nil {
			set = map[Member]struct{}{}
			a.rooms[r] = set
		}
		set[m] = struct{}{}
	}
}

// Del implements Adapter.
func (a *Memory) Del(m Member, room Room) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mine := a.members[m]; mine != nil {
		delete(mine, room)
	}
	a.delFromRoomLocked(m, room)
}

func (a *Memory) delFromRoomLocked(m Member, room Room) {
	if set := a.rooms[room]; set != nil {
		delete(set, m)
		if len(set) == 0 {
			delete(a.rooms, room)
		}
	}
}

// DelAll implements Adapter.
func (a *Memory) DelAll(m Member) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for r := range a.members[m] {
		a.delFromRoomLocked(m, r)
	}
	delete(a.members, m)
	if a.byID[m.ID()] == m {
		delete(a.byID, m.ID())
	}
}

// match returns the members selected by opts, each once.
func (a *Memory) match(opts *Options) []Member {
	a.mu.RLock()
	defer a.mu.RUnlock()
	excluded := func(m Member) bool {
		for _, r := range opts.Except {
			if _, in := a.rooms[r][m]; in {
				return true
			}
		}
		return false
	}
	var out []Member
	if len(opts.Rooms) == 0 {
		out = make([]Member, 0, len(a.members))
		for m := range a.members {
			if !excluded(m) {
				out = append(out, m)
			}
		}
		return out
	}
	if len(opts.Rooms) == 1 {
		set := a.rooms[opts.Rooms[0]]
		out = make([]Member, 0, len(set))
		for m := range set {
			if !excluded(m) {
				out = append(out, m)
			}
		}
		return out
	}
	seen := map[Member]struct{}{}
	for _, r := range opts.Rooms {
		for m := range a.rooms[r] {
			if _, dup := seen[m]; dup || excluded(m) {
				continue
			}
			seen[m] = struct{}{}
			out = append(out, m)
		}
	}
	return out
}

// Broadcast implements Adapter.
func (a *Memory) Broadcast(p *Packet, opts *Options) {
	if a.opts.Recovery && p.ID < 0 && !opts.Flags.Volatile && isEvent(p.Type) {
		a.store(p, opts)
	}
	for _, m := range a.match(opts) {
		m.Deliver(p, opts.Flags.Volatile)
	}
}

func isEvent(t uint8) bool { return t == 2 || t == 5 }

// BroadcastWithAck implements Adapter.
func (a *Memory) BroadcastWithAck(p *Packet, opts *Options, ackID func(Member) int64, onCount func(int)) {
	ms := a.match(opts)
	onCount(len(ms))
	for _, m := range ms {
		q := *p
		q.ID = ackID(m)
		q.Encoded = nil // the ack id differs per member, so each encodes its own
		m.Deliver(&q, opts.Flags.Volatile)
	}
}

// Sockets implements Adapter.
func (a *Memory) Sockets(rooms []Room) []SocketID {
	ms := a.match(&Options{Rooms: rooms})
	ids := make([]SocketID, len(ms))
	for i, m := range ms {
		ids[i] = m.ID()
	}
	return ids
}

// SocketRooms implements Adapter.
func (a *Memory) SocketRooms(id SocketID) []Room {
	a.mu.RLock()
	defer a.mu.RUnlock()
	m := a.byID[id]
	if m == nil {
		return nil
	}
	out := make([]Room, 0, len(a.members[m]))
	for r := range a.members[m] {
		out = append(out, r)
	}
	return out
}

// FetchSockets implements Adapter.
func (a *Memory) FetchSockets(opts *Options) ([]SocketInfo, error) {
	ms := a.match(opts)
	out := make([]SocketInfo, len(ms))
	for i, m := range ms {
		out[i] = SocketInfo{ID: m.ID(), Rooms: a.SocketRooms(m.ID()), Member: m}
	}
	return out, nil
}

// AddSockets implements Adapter.
func (a *Memory) AddSockets(opts *Options, rooms []Room) {
	for _, m := range a.match(opts) {
		a.AddAll(m, rooms)
	}
}

// DelSockets implements Adapter.
func (a *Memory) DelSockets(opts *Options, rooms []Room) {
	for _, m := range a.match(opts) {
		for _, r := range rooms {
			a.Del(m, r)
		}
	}
}

// DisconnectSockets implements Adapter.
func (a *Memory) DisconnectSockets(opts *Options, close bool) {
	for _, m := range a.match(opts) {
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

// Rooms implements Adapter.
func (a *Memory) Rooms() []Room {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Room, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

// Close implements Adapter.
func (a *Memory) Close() error { return nil }

// store appends the offset argument to p and keeps it for recovery.
func (a *Memory) store(p *Packet, opts *Options) {
	id := strconv.FormatUint(a.offset.Add(1), 36)
	p.Data = appendLastArg(p.Data, id)
	now := time.Now()
	a.recMu.Lock()
	defer a.recMu.Unlock()
	a.expireLocked(now)
	a.packets = append(a.packets, storedPacket{
		id: id, rooms: append([]Room(nil), opts.Rooms...), except: append([]Room(nil), opts.Except...),
		packet: p, emitted: now,
	})
}

// appendLastArg adds a JSON string argument at the end of the array data (ids are
// base-36 digits, so no escaping is needed).
func appendLastArg(data []byte, s string) []byte {
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
		if includes(s.Rooms, sp.rooms, sp.except) {
			s.MissedPackets = append(s.MissedPackets, sp.packet)
		}
	}
	return &s, nil
}

func includes(sessionRooms, rooms, except []Room) bool {
	in := len(rooms) == 0
	for _, r := range sessionRooms {
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
