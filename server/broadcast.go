package server

import (
	"context"
	"sync"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
)

// BroadcastOperator selects sockets of a namespace (rooms, exceptions, flags) and acts on
// them: Emit, EmitWithAck, FetchSockets, SocketsJoin, SocketsLeave, DisconnectSockets.
// Each modifier returns a new operator, so a chain can be kept and reused.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  rooms.Flags
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.rooms = append([]string(nil), b.rooms...)
	c.except = append([]string(nil), b.except...)
	return &c
}

// To adds rooms to select (sockets in any of them).
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.rooms = append(c.rooms, rooms...)
	return c
}

// In is To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except excludes sockets in rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.except = append(c.except, rooms...)
	return c
}

// Volatile drops the event for clients whose transport cannot take it now.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.flags.Volatile = true
	return c
}

// Local limits the operation to this node.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.flags.Local = true
	return c
}

// Compress sets the compress flag (accepted; riptide does not compress yet).
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.flags.Compress = on
	return c
}

// Timeout sets how long EmitWithAck waits.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.flags.Timeout = d
	return c
}

func (b *BroadcastOperator) options() *rooms.Options {
	return &rooms.Options{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Emit sends the event to every selected socket; it is encoded once for all of them.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if reserved[event] {
		return ErrReservedEvent
	}
	data, atts, err := encodeEvent(event, args)
	if err != nil {
		return err
	}
	b.nsp.adapter.Broadcast(&rooms.Packet{Type: eventType(atts), Data: data, Attachments: atts, ID: -1}, b.options())
	return nil
}

// EmitWithAck sends the event to every selected socket and collects their acks until all
// answered or the timeout (Timeout, else ctx) ends. On timeout it returns the answers that
// arrived and ErrAckTimeout.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if reserved[event] {
		return nil, ErrReservedEvent
	}
	data, atts, err := encodeEvent(event, args)
	if err != nil {
		return nil, err
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
		defer cancel()
	}
	col := &ackCollector{done: make(chan struct{}), expected: -1}
	err = b.nsp.adapter.BroadcastWithAck(&rooms.Packet{Type: eventType(atts), Data: data, Attachments: atts, ID: -1}, b.options(),
		func(m rooms.Member) int64 {
			s, ok := m.(*Socket)
			if !ok {
				return -1
			}
			id, ok := s.registerAck(col.add)
			if !ok {
				col.add(Args{}, ErrDisconnected) // counted, but it will never answer
				return -1
			}
			return id
		},
		col.setExpected,
		func(reply []byte, atts [][]byte) { col.add(Args{raw: reply, atts: atts}, nil) })
	if err != nil {
		return col.answers(), err // the other nodes could not be asked (a cluster adapter)
	}
	select {
	case <-col.done:
		return col.answers(), nil
	case <-ctx.Done():
		return col.answers(), ErrAckTimeout
	}
}

// ackCollector gathers the acks of a broadcast.
type ackCollector struct {
	mu       sync.Mutex
	got      []Args
	expected int // -1 until the adapter reports a count
	failed   int // sockets that left without answering, counted apart: the count may come later
	done     chan struct{}
	closed   bool
}

func (c *ackCollector) add(a Args, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.got = append(c.got, a)
	} else {
		c.failed++ // the socket left: do not wait for it
	}
	c.check()
}

func (c *ackCollector) setExpected(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expected < 0 {
		c.expected = 0
	}
	c.expected += n
	c.check()
}

func (c *ackCollector) check() {
	if !c.closed && c.expected >= 0 && len(c.got)+c.failed >= c.expected {
		c.closed = true
		close(c.done)
	}
}

func (c *ackCollector) answers() []Args {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Args(nil), c.got...)
}

// RemoteSocket is a socket returned by FetchSockets: its id, rooms and data, and, for a
// socket on this node, the operations on it.
type RemoteSocket struct {
	ID        string
	Rooms     []string
	Data      any
	Handshake any    // *Handshake for a local socket; the decoded JSON for a remote one
	Node      string // the node it is on, when the adapter knows (the Redis adapter's UID)
	local     *Socket
	nsp       *Namespace
}

// Local returns the socket if it is on this node, else nil.
func (r *RemoteSocket) Local() *Socket { return r.local }

// Emit sends an event to the socket (through the adapter when it is on another node).
func (r *RemoteSocket) Emit(event string, args ...any) error {
	if r.local != nil {
		return r.local.Emit(event, args...)
	}
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) {
	if r.local != nil {
		r.local.Join(rooms...)
		return
	}
	r.nsp.In(r.ID).SocketsJoin(rooms...)
}

// Leave makes the socket leave room.
func (r *RemoteSocket) Leave(room string) {
	if r.local != nil {
		r.local.Leave(room)
		return
	}
	r.nsp.In(r.ID).SocketsLeave(room)
}

// Disconnect disconnects the socket.
func (r *RemoteSocket) Disconnect(close bool) {
	if r.local != nil {
		r.local.Disconnect(close)
		return
	}
	r.nsp.In(r.ID).DisconnectSockets(close)
}

// FetchSockets returns the selected sockets.
func (b *BroadcastOperator) FetchSockets() ([]*RemoteSocket, error) {
	infos, err := b.nsp.adapter.FetchSockets(b.options())
	out := make([]*RemoteSocket, 0, len(infos))
	for _, in := range infos {
		r := &RemoteSocket{ID: in.ID, Rooms: in.Rooms, Data: in.Data, Handshake: in.Handshake, Node: in.Node, nsp: b.nsp}
		if s, ok := in.Member.(*Socket); ok {
			r.local = s
			r.Data = s.Data()
			r.Handshake = s.Handshake()
		}
		out = append(out, r)
	}
	return out, err
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) {
	b.nsp.adapter.AddSockets(b.options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) {
	b.nsp.adapter.DelSockets(b.options(), rooms)
}

// DisconnectSockets disconnects the selected sockets.
func (b *BroadcastOperator) DisconnectSockets(close bool) {
	b.nsp.adapter.DisconnectSockets(b.options(), close)
}

// jsonStringField returns the string value of key in a JSON object.
func jsonStringField(obj []byte, key string) (string, bool) {
	v, ok := sio.ObjectField(obj, key)
	if !ok || len(v) == 0 || v[0] != '"' {
		return "", false
	}
	b, err := sio.AppendUnquote(nil, v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// ServerSideEmitWithAck sends an event to the other nodes and waits for each node's answer,
// at most the operator's timeout (else until ctx ends).
func (b *BroadcastOperator) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	data, atts, err := encodeEvent(event, args)
	if err != nil {
		return nil, err
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
		defer cancel()
	}
	col := &ackCollector{done: make(chan struct{}), expected: -1}
	err = b.nsp.adapter.ServerSideEmit(&rooms.Packet{Type: eventType(atts), Data: data, Attachments: atts, ID: -1},
		col.setExpected, func(reply []byte, atts [][]byte) { col.add(Args{raw: reply, atts: atts}, nil) })
	if err != nil {
		return nil, err
	}
	select {
	case <-col.done:
		return col.answers(), nil
	case <-ctx.Done():
		return col.answers(), ErrAckTimeout
	}
}
