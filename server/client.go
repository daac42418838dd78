package server

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/internal/deadline"
	"github.com/riptide-io/riptide/server/internal/serial"
)

// client is one Engine.IO connection and the sockets (one per namespace) multiplexed on it.
type client struct {
	srv  *Server
	sess *engine.Session

	connects serial.Queue // CONNECTs run here: middlewares may block

	// mu guards the fields below. Lock order: client.mu, then the engine's Session lock
	// (Pause and Resume are called under mu, so a pause and a resume cannot cross).
	mu sync.Mutex
	// sockets and pending are tiny slices, not maps: a client is in one or two namespaces,
	// and an idle connection should not pay for a map.
	sockets  []*Socket // one per namespace
	closed   bool
	joined   bool       // a namespace was joined once: the connect timeout is over
	paused   bool       // input is paused: queued reached Options.MaxPendingEvents
	draining bool       // Drain closes the connection once queued is 0 (shutdownWhenIdle)
	queued   int32      // handler tasks of this connection's input not finished yet
	aux      *clientAux // transient state; nil on an idle connection

	timer deadline.Timer // connectTimeout
}

// clientAux is what a client needs only while packets are in flight.
type clientAux struct {
	pending []string // namespaces whose CONNECT is being handled
	// A BINARY_EVENT/BINARY_ACK waiting for its attachments.
	partial     *sio.Packet
	partialAtts [][]byte
}

// auxLocked returns the transient state, creating it. Caller holds c.mu.
func (c *client) auxLocked() *clientAux {
	if c.aux == nil {
		c.aux = &clientAux{}
	}
	return c.aux
}

// tidyLocked drops the transient state once it holds nothing. Caller holds c.mu.
func (c *client) tidyLocked() {
	if a := c.aux; a != nil && len(a.pending) == 0 && a.partial == nil && a.partialAtts == nil {
		c.aux = nil
	}
}

// Fire implements deadline.Firer: the connect timeout.
func (c *client) Fire(time.Time) {
	c.mu.Lock()
	idle := !c.joined && len(c.sockets) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.sess.Close()
	}
}

// onMessage handles one Engine.IO message, on the event loop that read it: data is only
// valid during the call, so what is kept is copied.
func (c *client) onMessage(data []byte, binary bool) {
	if binary {
		c.mu.Lock()
		if c.aux == nil || c.aux.partial == nil {
			c.mu.Unlock()
			c.fail() // an attachment nobody announced
			return
		}
		a := c.aux
		p := a.partial
		a.partialAtts = append(a.partialAtts, bytes.Clone(data))
		if len(a.partialAtts) < p.Attachments {
			c.mu.Unlock()
			return
		}
		atts := a.partialAtts
		a.partial, a.partialAtts = nil, nil
		c.tidyLocked()
		c.mu.Unlock()
		c.dispatch(p, atts)
		return
	}
	var p sio.Packet
	if err := sio.Decode(data, &p); err != nil {
		c.fail()
		return
	}
	c.mu.Lock()
	waiting := c.aux != nil && c.aux.partial != nil
	c.mu.Unlock()
	if waiting {
		c.fail() // text while attachments are awaited: the reference errors out too
		return
	}
	// Keep the packet: its slices point into the loop's buffer.
	owned := &sio.Packet{Type: p.Type, ID: p.ID, Attachments: p.Attachments}
	buf := make([]byte, 0, len(p.Namespace)+len(p.Data))
	buf = append(buf, p.Namespace...)
	owned.Namespace = buf[:len(p.Namespace):len(p.Namespace)]
	buf = append(buf, p.Data...)
	owned.Data = buf[len(p.Namespace):]
	if p.Data == nil {
		owned.Data = nil
	}
	if (p.Type == sio.BinaryEvent || p.Type == sio.BinaryAck) && p.Attachments > 0 {
		c.mu.Lock()
		c.auxLocked().partial = owned
		c.mu.Unlock()
		return
	}
	c.dispatch(owned, nil)
}

// admit counts a handler task made from the connection's input, before it is pushed. At
// Options.MaxPendingEvents the session stops being read: the message being handled is the
// last one until release resumes it.
//
// The bound is per connection (the sum over its namespaces' queues plus its CONNECT queue),
// not per socket: the sockets of a connection share one TCP stream, so pausing for one
// socket stops them all anyway, and what the bound protects is the memory one connection can
// make the server hold. Called on the event loop; it never blocks (Pause only flags the
// session).
func (c *client) admit() {
	c.mu.Lock()
	c.queued++
	if !c.paused && int(c.queued) >= c.srv.opts.MaxPendingEvents {
		c.paused = true
		c.sess.Pause()
		c.srv.inputPauses.Add(1)
	}
	c.mu.Unlock()
}

// release is called by each admitted task when it has run. Reading resumes when the queue
// is half drained, not at the first free slot: the worker still has tasks to run while the
// input refills, and a busy connection does not flip between paused and running per packet.
func (c *client) release() {
	c.mu.Lock()
	c.queued--
	if c.paused && int(c.queued) <= c.srv.opts.MaxPendingEvents/2 {
		c.paused = false
		c.sess.Resume()
	}
	shutdown := c.draining && c.queued == 0
	c.mu.Unlock()
	if shutdown {
		c.sess.Shutdown() // the last handler task of a draining connection: its acks are queued
	}
}

// socketIn returns the client's socket in namespace nsp. Caller holds c.mu.
func (c *client) socketIn(nsp string) *Socket {
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

// fail closes the connection after a protocol error, as the reference does on a decode error.
func (c *client) fail() { c.sess.Close() }

// dispatch routes a complete packet.
func (c *client) dispatch(p *sio.Packet, atts [][]byte) {
	nsp := string(p.Namespace)
	c.mu.Lock()
	s := c.socketIn(nsp)
	pending := c.aux != nil && slices.Contains(c.aux.pending, nsp)
	c.mu.Unlock()
	switch {
	case p.Type == sio.Connect && s == nil && !pending:
		c.mu.Lock()
		a := c.auxLocked()
		a.pending = append(a.pending, nsp)
		c.mu.Unlock()
		auth := p.Data
		c.admit()
		c.srv.pool.Push(&c.connects, func() { c.connect(nsp, auth); c.release() })
	case s != nil && p.Type != sio.Connect && p.Type != sio.ConnectError:
		s.onPacket(p, atts)
	default:
		// A packet for a namespace the client is not in (or a second CONNECT): the
		// reference closes the connection ("invalid state").
		c.fail()
	}
}

// onPacket handles a packet for a connected socket.
func (s *Socket) onPacket(p *sio.Packet, atts [][]byte) {
	switch p.Type {
	case sio.Event, sio.BinaryEvent:
		name, args := splitEvent(p.Data)
		ev := &Event{Args: Args{raw: args, atts: atts}, Name: name, socket: s, ackID: p.ID}
		c := s.client
		c.admit()
		s.nsp.srv.pool.Push(&s.inbox, func() { s.onEvent(ev); c.release() })
	case sio.Ack, sio.BinaryAck:
		// Acks resolve at once, not behind the socket's queue: a handler waiting for this
		// ack may be what the queue is blocked on.
		s.onAck(p.ID, Args{raw: p.Data, atts: atts})
	case sio.Disconnect:
		s.onclose(ReasonClientDisconnect)
	}
}

// splitEvent returns the event name and the remaining arguments as a JSON array.
func splitEvent(data []byte) (string, []byte) {
	it := sio.NewArrayIter(data)
	first, _ := it.Next()
	var name string
	if len(first) > 0 && first[0] == '"' {
		b, _ := sio.AppendUnquote(nil, first)
		name = string(b)
	} else {
		name = string(first) // a number, as the reference allows
	}
	// The arguments are the array without its first element: "[" + what follows the name.
	rest := data[bytes.Index(data, first)+len(first):]
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\n' || rest[i] == '\r') {
		i++
	}
	if i < len(rest) && rest[i] == ',' {
		i++
	}
	args := make([]byte, 0, len(rest)-i+1)
	args = append(args, '[')
	args = append(args, rest[i:]...)
	return name, args
}

// connect runs on the client's connect queue: namespace lookup, recovery, middlewares, then
// the CONNECT reply.
func (c *client) connect(name string, auth []byte) {
	defer func() {
		c.mu.Lock()
		if a := c.aux; a != nil {
			if i := slices.Index(a.pending, name); i >= 0 {
				a.pending = slices.Delete(a.pending, i, i+1)
			}
			if len(a.pending) == 0 {
				a.pending = nil
			}
		}
		c.tidyLocked()
		c.mu.Unlock()
	}()
	nsp := c.srv.lookup(name, auth)
	if nsp == nil {
		c.connectError(name, &ConnectError{Message: "Invalid namespace"})
		return
	}
	if len(auth) == 0 {
		auth = emptyAuth
	}
	s := &Socket{id: newID(), nsp: nsp, client: c, auth: auth}
	var restored *rooms.Session
	if c.srv.recovery() {
		restored = nsp.restore(auth)
		if restored != nil {
			s.id, s.pid, s.data, s.recovered = restored.SID, restored.PID, restored.Data, true
		} else {
			s.pid = newID()
		}
	}
	if restored == nil || c.srv.opts.ConnectionStateRecovery.RunMiddlewares {
		for _, mw := range nsp.middlewares() {
			if err := mw(s); err != nil {
				var ce *ConnectError
				if !errors.As(err, &ce) {
					ce = &ConnectError{Message: err.Error()}
				}
				c.connectError(name, ce)
				return
			}
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sockets = append(c.sockets, s)
	c.joined = true
	s.mu.Lock()
	s.connected = true
	var early []string
	if s.x != nil {
		early, s.x.joins = s.x.joins, nil
	}
	s.mu.Unlock()
	c.mu.Unlock()
	c.srv.wheel.Stop(&c.timer)
	joins := []string{s.id}
	joins = append(joins, early...)
	if restored != nil {
		joins = append(joins, restored.Rooms...)
	}
	reply := make([]byte, 0, 64)
	reply = append(reply, `{"sid":`...)
	reply = sio.AppendQuote(reply, s.id)
	if s.pid != "" {
		reply = append(reply, `,"pid":`...)
		reply = sio.AppendQuote(reply, s.pid)
	}
	reply = append(reply, '}')
	// The reply goes out from the socket's own queue, so the connection handlers run before
	// any event the client sends after it learns it is connected. It counts as handler work
	// of the connection, which a drain lets finish.
	c.admit()
	c.srv.pool.Push(&s.inbox, func() {
		defer c.release()
		nsp.add(s)
		connect := func() {
			_ = s.sendPacket(&sio.Packet{Type: sio.Connect, Namespace: nsp.wireName(), ID: -1, Data: reply}, nil, false)
		}
		if restored != nil {
			s.replay(joins, connect, restored)
		} else {
			nsp.adapter.AddAll(s, joins)
			connect()
		}
		if o := c.srv.obs.Load(); o != nil && o.Connected != nil {
			o.Connected(s)
		}
		// On a WebSocket, let the reply leave in a write of its own, and the client read it,
		// before the handlers emit: clients that take one message per event-loop turn (the
		// public Socket.IO protocol suite's waitFor) lose an emit that shares a TCP read
		// with the reply; the Node reference fails those tests about half the time for that
		// reason. It costs the connection handlers a millisecond on this worker, nothing
		// on the event loop. Bounded, in case the transport is stuck.
		if len(nsp.connectionHandlers()) > 0 && c.sess.Transport() == engine.WebSocket {
			select {
			case <-c.sess.Flushed():
				time.Sleep(time.Millisecond)
			case <-time.After(50 * time.Millisecond): // per namespace connect, gone in 50 ms at most
			}
		}
		for _, h := range nsp.connectionHandlers() {
			h(s)
		}
	})
}

// emptyAuth is the auth of a CONNECT without payload, shared by every such socket.
var emptyAuth = []byte("{}")

// ConnectError refuses a connection from a middleware: the client's connect_error gets
// Message as err.message and Data (when not nil) as err.data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

func (c *client) connectError(nsp string, ce *ConnectError) {
	payload := make([]byte, 0, 64)
	payload = append(payload, `{"message":`...)
	payload = sio.AppendQuote(payload, ce.Message)
	var data []byte
	if ce.Data != nil {
		payload = append(payload, `,"data":`...)
		start := len(payload)
		var err error
		if payload, _, err = sio.AppendValue(payload, nil, ce.Data); err != nil {
			payload = append(payload, "null"...)
		}
		data = payload[start:]
	}
	payload = append(payload, '}')
	c.refused(nsp, ce, data)
	buf := getBuf()
	buf.B = sio.AppendPacket(buf.B[:0], &sio.Packet{Type: sio.ConnectError, Namespace: []byte(nsp), ID: -1, Data: payload})
	_ = c.sess.SendMessages(buf.B, nil, false)
	putBuf(buf)
}

// remove forgets a socket that left its namespace.
func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if i := slices.Index(c.sockets, s); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	if len(c.sockets) == 0 {
		c.sockets = nil
	}
	c.mu.Unlock()
}

// disconnectAll disconnects every namespace with a DISCONNECT packet, then closes the
// connection (the reference's client._disconnect, then client.close): a socket that joined
// meanwhile gets "forced server close", and the engine's later "forced close" finds none.
func (c *client) disconnectAll() {
	c.mu.Lock()
	all := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, s := range all {
		s.Disconnect(false)
	}
	c.onClose(ReasonForcedServerClose)
	c.sess.Close()
}

// onClose: the Engine.IO connection is gone (or is being closed by this server); every
// socket closes with reason. It runs once per socket: later calls find no socket.
func (c *client) onClose(reason DisconnectReason) {
	c.srv.wheel.Stop(&c.timer)
	c.mu.Lock()
	c.closed = true
	all := slices.Clone(c.sockets)
	c.mu.Unlock()
	for _, s := range all {
		s.onclose(reason)
	}
}
