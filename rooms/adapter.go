package rooms

import (
	"errors"
	"sync/atomic"
	"time"
)

// SocketID identifies a socket within a namespace (the Socket.IO socket id).
type SocketID = string

// Room is a room name. Every socket is also in the room named by its own id.
type Room = string

// Member is a socket as the adapter sees it. Implemented by the server package.
type Member interface {
	// ID returns the socket id.
	ID() SocketID
	// Deliver sends p to the socket's client. Volatile packets may be dropped. It must not
	// block: it queues the bytes for the socket's event loop.
	Deliver(p *Packet, volatile bool)
	// Disconnect disconnects the socket from its namespace; close also closes the client's
	// connection. It must not block.
	Disconnect(close bool)
	// Data returns the socket's data (for FetchSockets answers to other nodes).
	Data() any
	// HandshakeData returns the socket's handshake as a JSON-encodable value, shaped as the
	// reference's socket.handshake (for FetchSockets answers to other nodes).
	HandshakeData() any
}

// AckMember is a Member that can ask its client for an ack on behalf of another node: a
// cluster adapter uses it for the broadcasts with acks that other nodes send. The server
// package's Socket implements it.
type AckMember interface {
	Member
	// RegisterAck reserves an ack id whose answer (the client's ack arguments as a JSON array,
	// and their attachments) goes to f, at most once and never if the socket disconnects
	// first. ok is false when the socket is gone. It must not block.
	RegisterAck(f func(reply []byte, atts [][]byte)) (id int64, ok bool)
}

// Host is the namespace an adapter serves, for what arrives from other nodes.
type Host interface {
	// Name returns the namespace name.
	Name() string
	// ServerSideEvent hands over an event another node sent with ServerSideEmit: data is the
	// JSON array [event, args...] with placeholders for attachments. ack is nil when the
	// sender does not wait; otherwise it sends this node's answer (a JSON array and its
	// attachments) back. It must not block.
	ServerSideEvent(data []byte, atts [][]byte, ack func(reply []byte, atts [][]byte))
}

// Packet is one Socket.IO packet for a namespace, as a broadcast carries it.
type Packet struct {
	Type        uint8  // the Socket.IO packet type (EVENT or BINARY_EVENT for broadcasts)
	Data        []byte // the JSON payload: ["event", args...], placeholders for attachments
	Attachments [][]byte
	// ID is the ack id for broadcasts with acks (-1 when none). The adapter sets it per member
	// through AckID when a broadcast waits for acknowledgements.
	ID int64
	// encoded caches what the transport layer built from the packet, so the bytes are
	// encoded once for all members (see Encoded). Stored packets are replayed from other
	// goroutines, hence atomic.
	encoded atomic.Pointer[any]
}

// Encoded returns what SetEncoded cached, or nil. Safe for concurrent use.
func (p *Packet) Encoded() any {
	if v := p.encoded.Load(); v != nil {
		return *v
	}
	return nil
}

// SetEncoded caches the transport layer's encoding of p. Safe for concurrent use.
func (p *Packet) SetEncoded(v any) { p.encoded.Store(&v) }

// Copy returns a copy of p without the cached encoding (for a variant with another ack id
// or namespace).
func (p *Packet) Copy() *Packet {
	return &Packet{Type: p.Type, Data: p.Data, Attachments: p.Attachments, ID: p.ID}
}

// Flags modify a broadcast, as in Node's BroadcastFlags.
type Flags struct {
	Volatile bool // drop for members whose transport cannot write now
	Local    bool // only this node (no effect on the in-memory adapter)
	Compress bool
	Timeout  time.Duration // for broadcasts with acks
}

// Options select the members of a broadcast or a query.
type Options struct {
	Rooms  []Room // empty: every member of the namespace
	Except []Room // members in any of these rooms are skipped
	Flags  Flags
}

// SocketInfo describes a socket matched by FetchSockets.
type SocketInfo struct {
	ID    SocketID
	Rooms []Room
	// Member is set for sockets on this node, nil for remote ones.
	Member Member
	// Data and Handshake describe a remote socket (decoded from the other node's answer).
	Data      any
	Handshake any
	// Node is the id of the node the socket is on, when the adapter knows it ("" for an
	// adapter of one node, and for answers of nodes that do not say who they are).
	Node string
}

// Session is what connection state recovery keeps of a socket that dropped.
type Session struct {
	SID   SocketID
	PID   string
	Rooms []Room
	Data  any
	// MissedPackets are filled by RestoreSession: the stored packets after the client's
	// offset that were addressed to the session's rooms, in order. The server delivers them
	// after it added the restored socket to its rooms (AddAll), and reads the field only
	// then: a cluster adapter appends there what reached this node between its read of the
	// store and that AddAll.
	MissedPackets []*Packet
}

// SessionMember is a Member with a private session id (the pid of connection state
// recovery), for adapters that keep the sessions of live sockets too. The server package's
// Socket implements it.
type SessionMember interface {
	Member
	// PID returns the private session id, "" when recovery is off.
	PID() string
}

// ErrUnsupported is returned for operations an adapter does not offer.
var ErrUnsupported = errors.New("rooms: operation not supported by this adapter")

// Adapter is the interface between a namespace and room membership and delivery: local
// (Memory) or across nodes (the Redis adapter). Methods are safe for concurrent use.
type Adapter interface {
	// AddAll puts m in rooms.
	AddAll(m Member, rooms []Room)
	// Del removes m from room.
	Del(m Member, room Room)
	// DelAll removes m from every room (when it disconnects).
	DelAll(m Member)
	// Broadcast delivers p to every member matched by opts, once each.
	Broadcast(p *Packet, opts *Options)
	// BroadcastWithAck is Broadcast where each member is asked for an ack: ackID is called
	// once per local member, before delivery, to register the ack and get its id (-1: the
	// member cannot take one). onCount reports how many members were asked: once per node
	// for the in-memory adapter, once with the cluster-wide total for a cluster adapter
	// (never, if a node does not answer: the caller's timeout ends the wait). onReply gets
	// the answers of members on other nodes, each a JSON array of the client's ack
	// arguments and its attachments (Node.js servers forward only the first argument).
	// The error says the other nodes could not be asked; the local members were asked.
	BroadcastWithAck(p *Packet, opts *Options, ackID func(m Member) int64, onCount func(n int), onReply func(reply []byte, atts [][]byte)) error
	// Sockets returns the ids of the members in any of rooms (all members when empty).
	Sockets(rooms []Room) []SocketID
	// SocketRooms returns the rooms of socket id, nil when unknown.
	SocketRooms(id SocketID) []Room
	// FetchSockets returns the sockets matched by opts.
	FetchSockets(opts *Options) ([]SocketInfo, error)
	// AddSockets makes the sockets matched by opts join rooms.
	AddSockets(opts *Options, rooms []Room)
	// DelSockets makes the sockets matched by opts leave rooms.
	DelSockets(opts *Options, rooms []Room)
	// DisconnectSockets disconnects the sockets matched by opts.
	DisconnectSockets(opts *Options, close bool)
	// ServerSideEmit sends an event (p.Data is [event, args...]) to the other nodes of the
	// cluster. When onReply is non-nil the nodes are asked to answer: onCount is called once
	// with the number of nodes asked, onReply with each answer (a JSON array and its
	// attachments). The in-memory adapter has no other nodes.
	ServerSideEmit(p *Packet, onCount func(n int), onReply func(reply []byte, atts [][]byte)) error
	// Rooms returns every room that has members (including socket-id rooms).
	Rooms() []Room
	// Close releases the adapter's resources.
	Close() error
}

// SessionStore is implemented by adapters that support connection state recovery.
type SessionStore interface {
	// PersistSession keeps s for a later RestoreSession (until the recovery window ends).
	PersistSession(s *Session)
	// RestoreSession returns the session with private id pid and the packets stored after
	// offset that were addressed to it, or nil when it cannot be restored.
	RestoreSession(pid, offset string) (*Session, error)
}
