package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/internal/serial"
)

// Errors of emits and acks.
var (
	ErrReservedEvent = errors.New("server: reserved event name")
	ErrDisconnected  = errors.New("server: socket disconnected")
	ErrAckTimeout    = errors.New("server: operation has timed out") // the reference says "operation has timed out"
)

// reserved events cannot be emitted to clients (socket.io's RESERVED_EVENTS).
var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// IsReserved reports whether event is one of the names Socket.IO reserves (connect,
// connect_error, disconnect, disconnecting, newListener, removeListener): they cannot be
// emitted to clients.
func IsReserved(event string) bool { return reserved[event] }

// Socket is one client connected to one namespace.
//
// Emit, Join, Leave, Disconnect and the other methods are safe for concurrent use. Handlers
// of one socket run one at a time, in the order the packets arrived, on a worker goroutine:
// they may block without delaying other sockets.
type Socket struct {
	id     string
	pid    string
	nsp    *Namespace
	client *client
	auth   []byte

	inbox serial.Queue

	mu        sync.Mutex
	connected bool
	ended     bool // disconnected: connected is false for good
	recovered bool
	data      any
	nextAck   int64
	// x holds per-socket listeners and pending acks; nil until the first one, so a socket
	// that only uses namespace-level handlers (the idle common case) does not pay for it.
	x *socketExtras
	// held is set while a recovered socket's replay is being queued (see replay).
	held atomic.Pointer[heldPackets]
}

type socketExtras struct {
	handlers    map[string][]func(*Event)
	anyIn       []func(*Event)
	anyOut      []func(event string, args []any)
	middlewares []func(*Event) error
	onError     []func(error)
	onClosing   []func(reason DisconnectReason)
	onClose     []func(reason DisconnectReason)
	acks        map[int64]pendingAck
	joins       []string // rooms joined by middlewares, before the socket connected
}

// pendingAck is an ack the client owes: who gets it, and when it was asked for (for
// Stats.AckLatency).
type pendingAck struct {
	f     func(Args, error)
	asked int64 // unix nanoseconds
}

// ext returns the extras, creating them. Caller holds s.mu.
func (s *Socket) ext() *socketExtras {
	if s.x == nil {
		s.x = &socketExtras{}
	}
	return s.x
}

// extras returns the extras or an empty value to read from. Caller holds s.mu.
func (s *Socket) extras() *socketExtras {
	if s.x == nil {
		return &noExtras
	}
	return s.x
}

var noExtras socketExtras

// ID returns the socket id (the sid of the CONNECT reply).
func (s *Socket) ID() string { return s.id }

// PID returns the private session id used by connection state recovery ("" when off).
func (s *Socket) PID() string { return s.pid }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Conn returns the Engine.IO session underneath (shared by the namespaces of one connection).
func (s *Socket) Conn() *engine.Session { return s.client.sess }

// Recovered reports whether this connection restored an earlier session.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Data returns the per-socket data (Node's socket.data), kept across a recovery.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData replaces the per-socket data.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// On registers a handler for event on this socket (after the namespace's handlers).
func (s *Socket) On(event string, h func(*Event)) {
	s.mu.Lock()
	x := s.ext()
	if x.handlers == nil {
		x.handlers = map[string][]func(*Event){}
	}
	x.handlers[event] = append(x.handlers[event], h)
	s.mu.Unlock()
}

// OnAny registers a listener called for every incoming event, before middlewares and handlers.
func (s *Socket) OnAny(h func(*Event)) {
	s.mu.Lock()
	s.ext().anyIn = append(s.ext().anyIn, h)
	s.mu.Unlock()
}

// PrependAny registers a catch-all listener that runs before the others.
func (s *Socket) PrependAny(h func(*Event)) {
	s.mu.Lock()
	s.ext().anyIn = append([]func(*Event){h}, s.ext().anyIn...)
	s.mu.Unlock()
}

// OffAny removes every catch-all listener.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.ext().anyIn = nil
	s.mu.Unlock()
}

// OnAnyOutgoing registers a listener called for every event emitted to this socket.
func (s *Socket) OnAnyOutgoing(h func(event string, args []any)) {
	s.mu.Lock()
	s.ext().anyOut = append(s.ext().anyOut, h)
	s.mu.Unlock()
}

// Use adds a per-packet middleware: it sees each incoming event before the handlers, and
// an error drops the packet and goes to the OnError listeners.
func (s *Socket) Use(mw func(*Event) error) {
	s.mu.Lock()
	s.ext().middlewares = append(s.ext().middlewares, mw)
	s.mu.Unlock()
}

// OnError registers a listener for errors of this socket (rejected packets).
func (s *Socket) OnError(h func(error)) {
	s.mu.Lock()
	s.ext().onError = append(s.ext().onError, h)
	s.mu.Unlock()
}

// OnDisconnecting registers a listener called when the socket is about to disconnect, while
// it still is in its rooms.
func (s *Socket) OnDisconnecting(h func(reason DisconnectReason)) {
	s.mu.Lock()
	s.ext().onClosing = append(s.ext().onClosing, h)
	s.mu.Unlock()
}

// OnDisconnect registers a listener called once the socket has disconnected, with the
// reason (see DisconnectReason; Server.Close gives ReasonServerShutdown).
func (s *Socket) OnDisconnect(h func(reason DisconnectReason)) {
	s.mu.Lock()
	s.ext().onClose = append(s.ext().onClose, h)
	s.mu.Unlock()
}

// Join adds the socket to rooms.
//
// Called from a connection middleware, before the socket is connected, it records the
// rooms; they are joined with the connection, before the CONNECT reply leaves, so an emit to
// them reaches the socket as soon as it is connected, and a socket refused by a later
// middleware joins nothing.
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	if !s.connected && !s.ended {
		x := s.ext()
		x.joins = append(x.joins, rooms...)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.nsp.adapter.AddAll(s, rooms)
}

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { s.nsp.adapter.Del(s, room) }

// InRoom reports whether the socket is in room on this node (its own id room included),
// without allocating when the adapter keeps rooms in a rooms.Memory (the in-memory and
// Redis adapters do).
func (s *Socket) InRoom(room string) bool {
	if room == s.id {
		return true
	}
	switch a := s.nsp.adapter.(type) {
	case *rooms.Memory:
		return a.InRoom(s.id, room)
	case interface{ Local() *rooms.Memory }:
		return a.Local().InRoom(s.id, room)
	}
	return slices.Contains(s.Rooms(), room)
}

// Rooms returns the rooms the socket is in (its own id room included).
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// Emit sends an event to this client. Arguments: any JSON-encodable value; []byte (also
// inside map[string]any, []any and Object) travels as a binary attachment; an Args value as
// the only argument is sent as is.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, emitFlags{})
}

// EmitWithAck sends an event asking for an acknowledgement and waits for it until ctx ends.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.emitWithAck(ctx, event, args, emitFlags{})
}

// Volatile returns an emitter whose events are dropped when the transport cannot write now.
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, flags: emitFlags{volatile: true}} }

// Timeout returns an emitter whose EmitWithAck waits at most d.
func (s *Socket) Timeout(d time.Duration) *Emitter {
	return &Emitter{s: s, flags: emitFlags{timeout: d}}
}

// Compress returns an emitter with the compress flag (accepted for compatibility; riptide
// does not compress yet).
func (s *Socket) Compress(bool) *Emitter { return &Emitter{s: s} }

// Emitter is a socket with flags for its next emits.
type Emitter struct {
	s     *Socket
	flags emitFlags
}

// Volatile adds the volatile flag.
func (e *Emitter) Volatile() *Emitter { e.flags.volatile = true; return e }

// Timeout sets the ack timeout.
func (e *Emitter) Timeout(d time.Duration) *Emitter { e.flags.timeout = d; return e }

// Emit sends an event with the emitter's flags.
func (e *Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, e.flags) }

// EmitWithAck sends an event and waits for the ack, at most the emitter's timeout.
func (e *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return e.s.emitWithAck(ctx, event, args, e.flags)
}

type emitFlags struct {
	volatile bool
	timeout  time.Duration
}

// To returns a broadcast to rooms from this socket (the sender excluded).
func (s *Socket) To(rooms ...string) *BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except returns a broadcast from this socket excluding rooms.
func (s *Socket) Except(rooms ...string) *BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns a broadcast to every socket of the namespace but this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return &BroadcastOperator{nsp: s.nsp, except: []string{s.id}}
}

// Disconnect disconnects the socket from its namespace (a DISCONNECT packet; the client does
// not reconnect by itself). With close, the whole connection closes.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.client.disconnectAll()
		return
	}
	s.mu.Lock()
	was := s.connected
	s.mu.Unlock()
	if !was {
		return
	}
	_ = s.sendPacket(&sio.Packet{Type: sio.Disconnect, Namespace: s.nsp.wireName(), ID: -1}, nil, false)
	s.onclose(ReasonServerDisconnect)
}

func (s *Socket) emit(event string, args []any, f emitFlags) error {
	if reserved[event] {
		return ErrReservedEvent
	}
	if !s.Connected() {
		return ErrDisconnected
	}
	data, atts, err := encodeEvent(event, args)
	if err != nil {
		return err
	}
	s.notifyOutgoing(event, args)
	p := &rooms.Packet{Type: eventType(atts), Data: data, Attachments: atts, ID: -1}
	if s.nsp.srv.recovery() {
		// With recovery on, the reference sends through the adapter so the event gets an
		// offset and is stored for replay.
		s.nsp.adapter.Broadcast(p, &rooms.Options{Rooms: []string{s.id}, Flags: rooms.Flags{Volatile: f.volatile}})
		return nil
	}
	s.nsp.observeOut(s.id, data, atts)
	return s.sendPacket(&sio.Packet{Type: sio.Type(p.Type), Namespace: s.nsp.wireName(), ID: -1, Data: data, Attachments: len(atts)}, atts, f.volatile)
}

func (s *Socket) notifyOutgoing(event string, args []any) {
	s.mu.Lock()
	ls := s.extras().anyOut
	s.mu.Unlock()
	for _, l := range ls {
		l(event, args)
	}
}

func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, f emitFlags) (Args, error) {
	if reserved[event] {
		return Args{}, ErrReservedEvent
	}
	data, atts, err := encodeEvent(event, args)
	if err != nil {
		return Args{}, err
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	type result struct {
		a   Args
		err error
	}
	ch := make(chan result, 1)
	id, ok := s.registerAck(func(a Args, err error) { ch <- result{a, err} })
	if !ok {
		return Args{}, ErrDisconnected
	}
	s.notifyOutgoing(event, args)
	s.nsp.observeOut(s.id, data, atts)
	if err := s.sendPacket(&sio.Packet{Type: sio.Type(eventType(atts)), Namespace: s.nsp.wireName(), ID: id, Data: data, Attachments: len(atts)}, atts, f.volatile); err != nil {
		s.dropAck(id)
		return Args{}, err
	}
	select {
	case r := <-ch:
		return r.a, r.err
	case <-ctx.Done():
		s.dropAck(id) // a late ack is then ignored
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Args{}, ErrAckTimeout
		}
		return Args{}, ctx.Err()
	}
}

// registerAck reserves an ack id whose answer goes to f.
func (s *Socket) registerAck(f func(Args, error)) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return 0, false
	}
	x := s.ext()
	if x.acks == nil {
		x.acks = map[int64]pendingAck{}
	}
	id := s.nextAck
	s.nextAck++
	x.acks[id] = pendingAck{f: f, asked: time.Now().UnixNano()}
	return id, true
}

// RegisterAck implements rooms.AckMember, for cluster adapters: it reserves an ack id whose
// answer (the client's ack arguments as a JSON array, and their attachments) goes to f; f is
// not called if the socket disconnects first. ok is false when the socket is gone.
func (s *Socket) RegisterAck(f func(reply []byte, atts [][]byte)) (id int64, ok bool) {
	return s.registerAck(func(a Args, err error) {
		if err == nil {
			f(a.JSON(), a.atts)
		}
	})
}

func (s *Socket) dropAck(id int64) {
	s.mu.Lock()
	delete(s.extras().acks, id)
	s.mu.Unlock()
}

// onAck resolves a pending ack; unknown ids (late acks) are ignored, as in the reference.
func (s *Socket) onAck(id int64, a Args) {
	s.mu.Lock()
	p, ok := s.extras().acks[id]
	delete(s.extras().acks, id)
	s.mu.Unlock()
	if ok {
		s.nsp.srv.observeAck(p.asked)
		p.f(a, nil)
	}
}

// sendPacket encodes p once for this client and queues it with its attachments.
func (s *Socket) sendPacket(p *sio.Packet, atts [][]byte, volatile bool) error {
	buf := getBuf()
	buf.B = sio.AppendPacket(buf.B[:0], p)
	err := s.client.sess.SendMessages(buf.B, atts, volatile)
	putBuf(buf)
	if errors.Is(err, engine.ErrDropped) {
		return nil // volatile: dropping is the contract
	}
	return err
}

// Deliver implements rooms.Member: a broadcast packet, encoded once for all recipients.
func (s *Socket) Deliver(p *rooms.Packet, volatile bool) {
	prep := s.nsp.prepare(p)
	if h := s.held.Load(); h != nil && h.hold(prep, volatile) {
		return
	}
	_ = s.client.sess.SendPrepared(prep, volatile)
}

// maxHeld bounds the broadcasts held for one recovered socket while its replay is queued.
// The replay is a loop of in-memory queue writes, so few arrive meanwhile; past the bound
// the rest go out at once, possibly ahead of the replay's end, rather than wait unbounded.
const maxHeld = 4096

// heldPackets collects the broadcasts that reach a recovered socket between its join
// (AddAll) and the end of its replay.
type heldPackets struct {
	mu   sync.Mutex
	ps   []heldPacket
	done bool // released: deliver directly
}

type heldPacket struct {
	prep     *engine.Prepared
	volatile bool
}

// hold keeps p for after the replay, unless the replay is over or the bound is reached.
func (h *heldPackets) hold(p *engine.Prepared, volatile bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done || len(h.ps) >= maxHeld {
		return false
	}
	h.ps = append(h.ps, heldPacket{p, volatile})
	return true
}

// replay joins a recovered socket to its rooms, then queues the CONNECT reply and the
// packets it missed, in that order and ahead of any broadcast that reaches it after the
// join: those are held meanwhile (Deliver, Namespace.DeliverAll), then queued after the
// replay. The reference does all of this in one turn of its event loop; here broadcasts
// run on other goroutines, and one could otherwise overtake the replay (or the CONNECT).
// The missed packets are read after AddAll: a cluster adapter appends there what reached
// this node since it read its store (rooms.Session.MissedPackets).
func (s *Socket) replay(joins []string, connect func(), restored *rooms.Session) {
	h := &heldPackets{}
	s.held.Store(h)
	defer s.held.Store(nil)
	s.nsp.adapter.AddAll(s, joins)
	connect()
	for _, p := range restored.MissedPackets {
		_ = s.client.sess.SendPrepared(s.nsp.prepare(p), false)
	}
	for {
		h.mu.Lock()
		ps := h.ps
		h.ps = nil
		if len(ps) == 0 {
			h.done = true
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		for _, p := range ps {
			_ = s.client.sess.SendPrepared(p.prep, p.volatile)
		}
	}
}

// onclose ends the socket: listeners run on its worker after the events already queued.
func (s *Socket) onclose(reason DisconnectReason) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	s.connected, s.ended = false, true
	acks := s.extras().acks
	if s.x != nil {
		s.x.acks = nil
	}
	s.mu.Unlock()
	s.client.remove(s)
	for _, p := range acks {
		p.f(Args{}, ErrDisconnected)
	}
	s.nsp.srv.countDisconnect(reason)
	s.nsp.srv.pool.Push(&s.inbox, func() {
		s.mu.Lock()
		closing := s.extras().onClosing
		s.mu.Unlock()
		for _, h := range closing {
			h(reason)
		}
		if store, ok := s.nsp.adapter.(rooms.SessionStore); ok && s.nsp.srv.recovery() && reason.recoverable() {
			store.PersistSession(&rooms.Session{SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.Data()})
		}
		s.nsp.adapter.DelAll(s)
		s.nsp.remove(s)
		s.mu.Lock()
		closed := s.extras().onClose
		s.mu.Unlock()
		for _, h := range closed {
			h(reason)
		}
		for _, h := range s.nsp.disconnectHandlers() {
			h(s, reason)
		}
		if o := s.nsp.srv.obs.Load(); o != nil && o.Disconnected != nil {
			o.Disconnected(s, reason)
		}
	})
}

// onEvent runs on the socket's worker: catch-all listeners, middlewares, then handlers.
func (s *Socket) onEvent(ev *Event) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	x := s.extras()
	anyIn, mws, own := x.anyIn, x.middlewares, x.handlers[ev.Name]
	s.mu.Unlock()
	if o := s.nsp.srv.obs.Load(); o != nil && o.EventIn != nil {
		o.EventIn(s, ev)
	}
	for _, l := range anyIn {
		l(ev)
	}
	for _, mw := range s.nsp.eventMiddlewares() {
		if err := mw(s, ev); err != nil {
			s.reportError(err)
			return
		}
	}
	for _, mw := range mws {
		if err := mw(ev); err != nil {
			s.reportError(err)
			return
		}
	}
	if !s.Connected() {
		return
	}
	for _, h := range s.nsp.handlersFor(ev.Name) {
		h(s, ev)
	}
	for _, h := range own {
		h(ev)
	}
}

// reportError hands err to the socket's OnError listeners.
func (s *Socket) reportError(err error) {
	s.mu.Lock()
	hs := s.extras().onError
	s.mu.Unlock()
	for _, h := range hs {
		h(err)
	}
}

func eventType(atts [][]byte) uint8 {
	if len(atts) > 0 {
		return uint8(sio.BinaryEvent)
	}
	return uint8(sio.Event)
}

// encodeEvent builds the JSON payload ["event", args...] and its attachments.
func encodeEvent(event string, args []any) ([]byte, [][]byte, error) {
	dst := make([]byte, 0, 64)
	dst = append(dst, '[')
	dst = sio.AppendQuote(dst, event)
	dst, atts, err := appendArgs(dst, nil, false, args)
	return append(dst, ']'), atts, err
}
