package tier

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
)

// MaxListedMembers caps the member list one Join, Leave or List returns: the first members
// in join order. A room of 100k members would otherwise make every join carry megabytes;
// JoinResult.Count still counts them all.
const MaxListedMembers = 1000

// ErrMembersClosed is returned by a member store's methods after Close.
var ErrMembersClosed = errors.New("tier: member store closed")

// Member is one socket in a room as others see it.
type Member struct {
	ID   string          `json:"id"`             // socket id
	Data json.RawMessage `json:"data,omitempty"` // the public data given at join (JSON), or nil
}

// JoinResult is the outcome of Members.Join.
type JoinResult struct {
	OK      bool     // false: the room is full (max members reached); nothing was added
	Count   int      // members after the join (or the current count when full)
	Members []Member // the member list after the join, when asked for (list=true) and OK; in join order
}

// Members counts and lists the members of rooms for max_members and presence.
//
// Member lists come in join order (a rejoin keeps its place) and hold at most
// MaxListedMembers entries. Their Data slices are shared with the store: read them, never
// modify them. Join copies the data it is given.
//
// All methods are safe for concurrent use. The Redis store's methods do network I/O: call
// them from a worker (a middleware or handler), never from an event loop.
type Members interface {
	// Join adds id (with public data, may be nil) to room unless the room already holds
	// max members (max <= 0: no bound). Joining a room id is already in succeeds and
	// updates its data (count unchanged). With list it returns the members.
	Join(ctx context.Context, room, id string, data []byte, max int, list bool) (JoinResult, error)
	// Leave removes id from room; with list it returns the remaining members. Leaving a
	// room one is not in is not an error.
	Leave(ctx context.Context, room, id string, list bool) ([]Member, error)
	// List returns the members of room.
	List(ctx context.Context, room string) ([]Member, error)
	// Close releases the store; the Redis store removes this node's members first (clean
	// leave). Later calls return ErrMembersClosed.
	Close() error
}

// NewMemoryMembers returns the member store of a single node: rooms live in this process
// only, so max_members bounds each node separately.
func NewMemoryMembers() Members {
	return &memoryMembers{rooms: map[string]*memRoom{}}
}

// memoryMembers keeps, per room, its members in a doubly linked list (join order) and an
// index by id: join and leave are O(1), a list walks at most MaxListedMembers nodes.
type memoryMembers struct {
	mu     sync.Mutex
	rooms  map[string]*memRoom
	closed bool
}

type memRoom struct {
	byID        map[string]*memNode
	first, last *memNode
}

type memNode struct {
	prev, next *memNode
	m          Member
}

func (s *memoryMembers) Join(_ context.Context, room, id string, data []byte, max int, list bool) (JoinResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return JoinResult{}, ErrMembersClosed
	}
	r := s.rooms[room]
	if r == nil {
		r = &memRoom{byID: map[string]*memNode{}}
		s.rooms[room] = r
	}
	if n := r.byID[id]; n != nil {
		n.m.Data = copyData(data) // a new slice: lists handed out earlier keep the old one
	} else {
		if max > 0 && len(r.byID) >= max {
			return JoinResult{Count: len(r.byID)}, nil
		}
		r.push(&memNode{m: Member{ID: id, Data: copyData(data)}})
	}
	res := JoinResult{OK: true, Count: len(r.byID)}
	if list {
		res.Members = r.list()
	}
	return res, nil
}

func (s *memoryMembers) Leave(_ context.Context, room, id string, list bool) ([]Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrMembersClosed
	}
	r := s.rooms[room]
	if r == nil {
		return nil, nil
	}
	if n := r.byID[id]; n != nil {
		r.remove(n)
	}
	if len(r.byID) == 0 {
		delete(s.rooms, room)
		return nil, nil
	}
	if !list {
		return nil, nil
	}
	return r.list(), nil
}

func (s *memoryMembers) List(_ context.Context, room string) ([]Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrMembersClosed
	}
	if r := s.rooms[room]; r != nil {
		return r.list(), nil
	}
	return nil, nil
}

func (s *memoryMembers) Close() error {
	s.mu.Lock()
	s.closed = true
	s.rooms = nil
	s.mu.Unlock()
	return nil
}

func (r *memRoom) push(n *memNode) {
	r.byID[n.m.ID] = n
	n.prev = r.last
	if r.last != nil {
		r.last.next = n
	} else {
		r.first = n
	}
	r.last = n
}

func (r *memRoom) remove(n *memNode) {
	delete(r.byID, n.m.ID)
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		r.first = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		r.last = n.prev
	}
}

// list returns the first MaxListedMembers members in join order.
func (r *memRoom) list() []Member {
	out := make([]Member, 0, min(len(r.byID), MaxListedMembers))
	for n := r.first; n != nil && len(out) < MaxListedMembers; n = n.next {
		out = append(out, n.m)
	}
	return out
}

// copyData returns a copy of data, nil for none.
func copyData(data []byte) json.RawMessage {
	if len(data) == 0 {
		return nil
	}
	return append(json.RawMessage(nil), data...)
}
