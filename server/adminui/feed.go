package adminui

import (
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// timestamp is a JavaScript Date as JSON.stringify writes it.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// observer is what the UI watches while someone watches: the socket feed, and the event
// feed with Config.Events. Nil in production mode (statistics only: the engine's counters
// serve them).
func (u *UI) observer() *server.Observer {
	if u.cfg.Production {
		return nil
	}
	o := &server.Observer{}
	o.Connected = u.onConnected
	o.Disconnected = u.onDisconnected
	o.Upgraded = u.onUpgraded
	o.Joined = func(n *server.Namespace, room, id string) { u.feed("room_joined", n.Name(), room, id) }
	o.Left = func(n *server.Namespace, room, id string) { u.feed("room_left", n.Name(), room, id) }
	if u.cfg.Events {
		o.EventIn = u.onEventIn
		o.EventOut = u.onEventOut
	}
	return o
}

// feed broadcasts a feed event to the UIs, with the time as last argument.
func (u *UI) feed(event string, args ...any) {
	args = append(args, timestamp(time.Now()))
	if err := u.nsp.Emit(event, args...); err != nil {
		u.log.Debug("adminui: feed", "event", event, "err", err)
	}
}

func (u *UI) onConnected(s *server.Socket) {
	u.feed("socket_connected", serialize(s))
}

func (u *UI) onDisconnected(s *server.Socket, reason server.DisconnectReason) {
	nsp := s.Namespace().Name()
	u.feed("socket_disconnected", nsp, s.ID(), string(reason))
	// The own id room is implicit (never reported by the adapter), but the UI lists it as a
	// private room: without this it would outlive the socket there.
	u.feed("room_left", nsp, s.ID(), s.ID())
}

// socketUpdate is the payload of "socket_updated".
type socketUpdate struct {
	ID        string `json:"id"`
	Nsp       string `json:"nsp"`
	Transport string `json:"transport"`
}

func (u *UI) onUpgraded(s *server.Socket) {
	err := u.nsp.Emit("socket_updated", &socketUpdate{ID: s.ID(), Nsp: s.Namespace().Name(), Transport: string(engine.WebSocket)})
	if err != nil {
		u.log.Debug("adminui: socket_updated", "err", err)
	}
}

// onEventIn forwards an event from a client as [name, args...], as the UI expects.
func (u *UI) onEventIn(s *server.Socket, ev *server.Event) {
	if s.Namespace() == u.nsp {
		return // the UI's own requests are not application events
	}
	u.feed("event_received", s.Namespace().Name(), s.ID(), eventArray(ev.Name, ev.Args))
}

func (u *UI) onEventOut(n *server.Namespace, id string, event server.Args) {
	if n == u.nsp {
		return // the feed itself: reporting it would feed itself forever
	}
	u.feed("event_sent", n.Name(), id, event)
}

// eventArray returns the event's name and arguments as one JSON array, attachments kept.
func eventArray(name string, args server.Args) server.Args {
	rest := args.JSON() // "[...]"
	raw := make([]byte, 0, len(name)+len(rest)+4)
	raw = append(raw, '[')
	raw = sio.AppendQuote(raw, name)
	if args.Len() > 0 {
		raw = append(raw, ',')
		raw = append(raw, rest[1:]...)
	} else {
		raw = append(raw, ']')
	}
	return server.NewArgs(raw, args.Attachments())
}
