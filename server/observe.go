package server

import (
	"errors"
	"slices"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/server/engine"
)

// Observer watches a whole server: every namespace, present and future, dynamic children
// included. It is what a monitoring tool such as server/adminui needs; an application uses
// the namespace's own listeners (OnConnection, OnDisconnect, UseEvent).
//
// Every field is optional. The hooks must not block: they run on a socket's worker, on an
// event loop or on whatever goroutine emitted or joined, as each says. Unlike per-socket
// listeners (Socket.OnAny, Socket.OnAnyOutgoing), an observer costs an idle socket nothing,
// and with no observer installed each hook site is one atomic load.
type Observer struct {
	// Connected: a socket connected. On its worker, after it joined its rooms and its
	// CONNECT reply left, before the namespace's connection handlers.
	Connected func(s *Socket)
	// Disconnected: a socket disconnected. On its worker, after it left its rooms and its
	// disconnect listeners ran.
	Disconnected func(s *Socket, reason DisconnectReason)
	// Upgraded: the connection of s moved from polling to WebSocket (once per socket of the
	// connection). On the event loop.
	Upgraded func(s *Socket)
	// Joined and Left: socket id of this node joined or left room of nsp (any goroutine;
	// leaving every room on disconnect included; the own id room is implicit, never
	// reported).
	Joined, Left func(nsp *Namespace, room, id string)
	// EventIn: an event from a client, on the socket's worker, before the middlewares and
	// handlers see it.
	EventIn func(s *Socket, ev *Event)
	// EventOut: an event on its way to socket id of this node (Emit, EmitWithAck, and each
	// recipient of a broadcast); event is the JSON array [name, args...] with its
	// attachments. On the emitting goroutine. Acks are not events.
	EventOut func(nsp *Namespace, id string, event Args)
}

// ErrObserved is returned by Observe when the server already has an observer.
var ErrObserved = errors.New("server: the server already has an observer")

// Observation is a server's observer slot, claimed by Observe. A server has one: the tool
// that holds it may pause and change what it watches (Set) without another taking it.
type Observation struct{ srv *Server }

// Observe claims the server's observer slot and installs o (nil: claimed but paused). It
// returns ErrObserved when the slot is taken. Safe for concurrent use, before or while
// serving; nothing that happened before is replayed.
func (s *Server) Observe(o *Observer) (*Observation, error) {
	if !s.observed.CompareAndSwap(false, true) {
		return nil, ErrObserved
	}
	s.obs.Store(o)
	return &Observation{srv: s}, nil
}

// Set replaces the observer; nil pauses observation, so every hook site is back to one
// atomic load. Safe for concurrent use; a hook already running may still finish with the
// previous observer.
func (ob *Observation) Set(o *Observer) { ob.srv.obs.Store(o) }

// Close removes the observer and frees the slot.
func (ob *Observation) Close() {
	ob.srv.obs.Store(nil)
	ob.srv.observed.Store(false)
}

// Observing reports whether an observer is installed and not paused.
func (s *Server) Observing() bool { return s.obs.Load() != nil }

// MemberJoined implements rooms.RoomWatcher for the server's observer.
func (n *Namespace) MemberJoined(id rooms.SocketID, room rooms.Room) {
	if o := n.srv.obs.Load(); o != nil && o.Joined != nil {
		o.Joined(n, room, id)
	}
}

// MemberLeft implements rooms.RoomWatcher for the server's observer.
func (n *Namespace) MemberLeft(id rooms.SocketID, room rooms.Room) {
	if o := n.srv.obs.Load(); o != nil && o.Left != nil {
		o.Left(n, room, id)
	}
}

// OnUpgrade implements engine.UpgradeHandler for the server's observer.
func (h *engineHandler) OnUpgrade(sess *engine.Session) {
	o := (*Server)(h).obs.Load()
	c, ok := sess.Context().(*client)
	if o == nil || o.Upgraded == nil || !ok {
		return
	}
	c.mu.Lock()
	all := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, s := range all {
		o.Upgraded(s)
	}
}

// observeOut reports an event leaving for socket id of nsp.
func (n *Namespace) observeOut(id string, data []byte, atts [][]byte) {
	if o := n.srv.obs.Load(); o != nil && o.EventOut != nil {
		o.EventOut(n, id, Args{raw: data, atts: atts})
	}
}

// observeBroadcast reports a delivered broadcast's event to each recipient.
func (n *Namespace) observeBroadcast(o *Observer, p *rooms.Packet, members []rooms.Member) {
	if o.EventOut == nil || (p.Type != uint8(sio.Event) && p.Type != uint8(sio.BinaryEvent)) {
		return
	}
	for _, m := range members {
		o.EventOut(n, m.ID(), Args{raw: p.Data, atts: p.Attachments})
	}
}
