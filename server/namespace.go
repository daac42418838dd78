package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/internal/serial"
)

// Namespace is a Socket.IO namespace: its middlewares, handlers, sockets and adapter.
// All methods are safe for concurrent use.
type Namespace struct {
	name     string
	wire     []byte // name as written in packets (nil for "/")
	srv      *Server
	adapter  rooms.Adapter
	h        *handlerSet // shared by the children of a dynamic (OfFunc) namespace
	parentOf *Namespace  // the OfFunc parent this namespace was created under

	count atomic.Int64 // sockets connected here

	serverEvents serial.Queue // server-side events from other nodes, in arrival order
}

// handlerSet holds what Use, On and OnConnection registered.
type handlerSet struct {
	mu          sync.RWMutex
	mws         []func(*Socket) error
	eventMws    []func(*Socket, *Event) error
	onConnect   []func(*Socket)
	onClose     []func(*Socket, DisconnectReason)
	handlers    map[string][]func(*Socket, *Event)
	serverEvent map[string][]func(Args, func(...any))
}

func newNamespace(srv *Server, name string, h *handlerSet) *Namespace {
	n := &Namespace{name: name, srv: srv, h: h}
	if name != "/" {
		n.wire = []byte(name)
	}
	n.adapter = srv.opts.NewAdapter(n)
	return n
}

// Name returns the namespace name, e.g. "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() rooms.Adapter { return n.adapter }

func (n *Namespace) wireName() []byte { return n.wire }

// Use adds a connection middleware. It runs on a worker before the socket connects and may
// block (a database lookup); an error refuses the connection with a connect_error (use
// *ConnectError to send data with it).
func (n *Namespace) Use(mw func(*Socket) error) {
	n.h.mu.Lock()
	n.h.mws = append(n.h.mws, mw)
	n.h.mu.Unlock()
}

// UseEvent adds an event middleware for every socket of the namespace: it runs on the
// socket's worker for each event from the client, before the socket's own middlewares and
// the handlers, and an error drops the event (the socket's OnError listeners get it). Unlike
// Socket.Use it costs a socket nothing, so a policy that checks every event (server/tier)
// registers once here. Call it before serving.
func (n *Namespace) UseEvent(mw func(*Socket, *Event) error) {
	n.h.mu.Lock()
	n.h.eventMws = append(n.h.eventMws, mw)
	n.h.mu.Unlock()
}

func (n *Namespace) eventMiddlewares() []func(*Socket, *Event) error {
	n.h.mu.RLock()
	defer n.h.mu.RUnlock()
	return n.h.eventMws
}

// OnConnection registers a listener for new sockets. It runs on the socket's worker, before
// any of the socket's events.
func (n *Namespace) OnConnection(h func(*Socket)) {
	n.h.mu.Lock()
	n.h.onConnect = append(n.h.onConnect, h)
	n.h.mu.Unlock()
}

// On registers a handler for event on every socket of the namespace, once, without a
// closure per socket.
func (n *Namespace) On(event string, h func(*Socket, *Event)) {
	n.h.mu.Lock()
	if n.h.handlers == nil {
		n.h.handlers = map[string][]func(*Socket, *Event){}
	}
	n.h.handlers[event] = append(n.h.handlers[event], h)
	n.h.mu.Unlock()
}

// OnServerSideEmit registers a listener for events other nodes send with ServerSideEmit;
// ack is non-nil when the sender waits for an answer.
func (n *Namespace) OnServerSideEmit(event string, h func(args Args, ack func(...any))) {
	n.h.mu.Lock()
	if n.h.serverEvent == nil {
		n.h.serverEvent = map[string][]func(Args, func(...any)){}
	}
	n.h.serverEvent[event] = append(n.h.serverEvent[event], h)
	n.h.mu.Unlock()
}

// ServerSideEvent implements rooms.Host: the listeners registered with OnServerSideEmit run
// on a worker (they may block); the first one that calls ack answers the sending node.
func (n *Namespace) ServerSideEvent(data []byte, atts [][]byte, ack func(reply []byte, atts [][]byte)) {
	name, args := splitEvent(data)
	n.h.mu.RLock()
	hs := n.h.serverEvent[name]
	n.h.mu.RUnlock()
	if len(hs) == 0 {
		return
	}
	var reply func(...any)
	if ack != nil {
		var once sync.Once
		reply = func(vs ...any) {
			once.Do(func() {
				dst := append(make([]byte, 0, 32), '[')
				dst, out, err := appendArgs(dst, nil, true, vs)
				if err == nil {
					ack(append(dst, ']'), out)
				}
			})
		}
	}
	a := Args{raw: args, atts: atts}
	n.srv.pool.Push(&n.serverEvents, func() {
		for _, h := range hs {
			h(a, reply)
		}
	})
}

func (n *Namespace) middlewares() []func(*Socket) error {
	n.h.mu.RLock()
	defer n.h.mu.RUnlock()
	return n.h.mws
}

// OnDisconnect registers h for every socket of the namespace that disconnects, after the
// socket's own disconnect listeners, with the same reason. Unlike Socket.OnDisconnect it
// costs a socket nothing: a policy that tracks every socket (server/tier's identities and
// limits) registers once here instead of once per socket. Call it before serving.
func (n *Namespace) OnDisconnect(h func(*Socket, DisconnectReason)) {
	n.h.mu.Lock()
	defer n.h.mu.Unlock()
	n.h.onClose = append(n.h.onClose, h)
}

func (n *Namespace) disconnectHandlers() []func(*Socket, DisconnectReason) {
	n.h.mu.RLock()
	defer n.h.mu.RUnlock()
	return n.h.onClose
}

func (n *Namespace) connectionHandlers() []func(*Socket) {
	n.h.mu.RLock()
	defer n.h.mu.RUnlock()
	return n.h.onConnect
}

func (n *Namespace) handlersFor(event string) []func(*Socket, *Event) {
	n.h.mu.RLock()
	defer n.h.mu.RUnlock()
	return n.h.handlers[event]
}

// Socket returns the local socket with id, or nil. The adapter's membership is the only
// index of sockets (a second map would cost every idle socket another entry).
func (n *Namespace) Socket(id string) *Socket {
	var m rooms.Member
	switch a := n.adapter.(type) {
	case interface {
		LocalMember(rooms.SocketID) rooms.Member
	}:
		m = a.LocalMember(id)
	case interface{ Local() *rooms.Memory }:
		m = a.Local().LocalMember(id)
	}
	s, _ := m.(*Socket)
	return s
}

// Count returns the number of sockets connected to this namespace on this node.
func (n *Namespace) Count() int { return int(n.count.Load()) }

func (n *Namespace) add(*Socket) { n.count.Add(1) }

func (n *Namespace) remove(*Socket) { n.count.Add(-1) }

// restore asks the adapter for the session named in a recovering client's auth
// ({"pid":..., "offset":...}), or returns nil.
func (n *Namespace) restore(auth []byte) *rooms.Session {
	store, ok := n.adapter.(rooms.SessionStore)
	if !ok {
		return nil
	}
	pid, ok1 := jsonStringField(auth, "pid")
	offset, ok2 := jsonStringField(auth, "offset")
	if !ok1 || !ok2 {
		return nil
	}
	s, err := store.RestoreSession(pid, offset)
	if err != nil {
		n.srv.opts.Logger.Warn("restore session", "nsp", n.name, "err", err)
		return nil
	}
	return s
}

// The broadcast operator's entry points on a namespace.

// To selects the sockets in rooms.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return n.op().To(rooms...) }

// In is To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.op().To(rooms...) }

// Except excludes the sockets in rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator { return n.op().Except(rooms...) }

// Volatile drops the broadcast for clients that cannot take it now.
func (n *Namespace) Volatile() *BroadcastOperator { return n.op().Volatile() }

// Local limits the broadcast to this node.
func (n *Namespace) Local() *BroadcastOperator { return n.op().Local() }

// Timeout sets how long EmitWithAck waits for the clients' acks.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.op().Timeout(d) }

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.op().Emit(event, args...) }

// FetchSockets returns the namespace's sockets.
func (n *Namespace) FetchSockets() ([]*RemoteSocket, error) { return n.op().FetchSockets() }

// SocketsJoin makes every socket join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { n.op().SocketsJoin(rooms...) }

// SocketsLeave makes every socket leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { n.op().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket.
func (n *Namespace) DisconnectSockets(close bool) { n.op().DisconnectSockets(close) }

// ServerSideEmit sends an event to the other nodes of the cluster (none with the in-memory
// adapter).
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	data, atts, err := encodeEvent(event, args)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(&rooms.Packet{Type: eventType(atts), Data: data, Attachments: atts, ID: -1}, nil, nil)
}

// ServerSideEmitWithAck sends an event to the other nodes and collects one answer per node
// until all answered or the timeout (Timeout(d) on the operator, else ctx) ends; on timeout
// it returns the answers that arrived and ErrAckTimeout.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return n.op().ServerSideEmitWithAck(ctx, event, args...)
}

func (n *Namespace) op() *BroadcastOperator { return &BroadcastOperator{nsp: n} }

// prepare encodes p for the wire once; the result is cached in p for every recipient.
func (n *Namespace) prepare(p *rooms.Packet) *engine.Prepared {
	if prep, ok := p.Encoded().(*engine.Prepared); ok {
		return prep
	}
	buf := getBuf()
	buf.B = sio.AppendPacket(buf.B[:0], &sio.Packet{Type: sio.Type(p.Type), Namespace: n.wire, ID: p.ID, Data: p.Data, Attachments: len(p.Attachments)})
	prep := engine.Prepare(buf.B, p.Attachments)
	putBuf(buf)
	p.SetEncoded(prep)
	return prep
}

var sessionSlices = sync.Pool{New: func() any { s := make([]*engine.Session, 0, 64); return &s }}

// DeliverAll implements rooms.Deliverer: the packet is encoded once and each event loop gets
// one task writing it to all of its sockets.
func (n *Namespace) DeliverAll(p *rooms.Packet, members []rooms.Member, volatile bool) {
	prep := n.prepare(p)
	buf := sessionSlices.Get().(*[]*engine.Session)
	sessions := (*buf)[:0]
	for _, m := range members {
		if s, ok := m.(*Socket); ok {
			if h := s.held.Load(); h != nil && h.hold(prep, volatile) {
				continue // a recovered socket's replay is being queued
			}
			sessions = append(sessions, s.client.sess)
		} else {
			m.Deliver(p, volatile)
		}
	}
	engine.Broadcast(prep, sessions, volatile)
	if o := n.srv.obs.Load(); o != nil {
		n.observeBroadcast(o, p, members)
	}
	clear(sessions)
	*buf = sessions[:0]
	sessionSlices.Put(buf)
}
