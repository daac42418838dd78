package adminui

import (
	"github.com/riptide-io/riptide/server"
)

// registerActions answers the UI's requests, as io.of(nsp).in(filter).<action> does in the
// Node package: cluster-wide, on the sockets of a namespace (those in room filter, when
// given). Unlike io.of, a namespace that does not exist is not created: the request is
// ignored.
func (u *UI) registerActions() {
	// _disconnect(nsp, close, filter?)
	u.nsp.On("_disconnect", func(_ *server.Socket, ev *server.Event) {
		var close bool
		_ = ev.Decode(1, &close)
		if op := u.target(ev, 2); op != nil {
			op.DisconnectSockets(close)
		}
	})
	// join(nsp, room, filter?) and leave(nsp, room, filter?)
	u.nsp.On("join", func(_ *server.Socket, ev *server.Event) {
		room, ok := ev.String(1)
		if op := u.target(ev, 2); op != nil && ok {
			op.SocketsJoin(room)
		}
	})
	u.nsp.On("leave", func(_ *server.Socket, ev *server.Event) {
		room, ok := ev.String(1)
		if op := u.target(ev, 2); op != nil && ok {
			op.SocketsLeave(room)
		}
	})
	// emit(nsp, filter?, event, ...args)
	u.nsp.On("emit", func(_ *server.Socket, ev *server.Event) {
		name, ok := ev.String(2)
		if op := u.target(ev, 1); op != nil && ok {
			if err := op.Emit(name, ev.From(3)); err != nil {
				u.log.Debug("adminui: emit", "event", name, "err", err)
			}
		}
	})
}

// target selects the sockets an action applies to: argument 0 names the namespace,
// argument filter (a string, or absent or null) a room to narrow to. Nil when the namespace
// does not exist.
func (u *UI) target(ev *server.Event, filter int) *server.BroadcastOperator {
	name, _ := ev.String(0)
	for _, ns := range u.io.Namespaces() {
		if ns.Name() != name {
			continue
		}
		if room, ok := ev.String(filter); ok && room != "" {
			return ns.In(room)
		}
		return ns.In()
	}
	return nil
}
