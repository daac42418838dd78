package server

import "github.com/riptide-io/riptide/rooms"

// parentAdapter is the adapter of an OfFunc parent namespace: it has no sockets of its own
// and forwards to the adapters of the children, as Node's ParentNamespace does.
type parentAdapter struct {
	srv    *Server
	parent *Namespace
}

func (a *parentAdapter) each(f func(rooms.Adapter)) {
	for _, c := range a.srv.children(a.parent) {
		f(c.adapter)
	}
}

func (a *parentAdapter) AddAll(rooms.Member, []rooms.Room) {}
func (a *parentAdapter) Del(rooms.Member, rooms.Room)      {}
func (a *parentAdapter) DelAll(rooms.Member)               {}

func (a *parentAdapter) Broadcast(p *rooms.Packet, opts *rooms.Options) {
	a.each(func(c rooms.Adapter) {
		c.Broadcast(p.Copy(), opts) // each child writes its own namespace name
	})
}

func (a *parentAdapter) BroadcastWithAck(p *rooms.Packet, opts *rooms.Options, ackID func(rooms.Member) int64, onCount func(int), onReply func([]byte, [][]byte)) error {
	var err error
	a.each(func(c rooms.Adapter) {
		if e := c.BroadcastWithAck(p.Copy(), opts, ackID, onCount, onReply); e != nil && err == nil {
			err = e
		}
	})
	onCount(0) // settles the count when there are no children
	return err
}

func (a *parentAdapter) Sockets(rs []rooms.Room) []rooms.SocketID {
	var out []rooms.SocketID
	a.each(func(c rooms.Adapter) { out = append(out, c.Sockets(rs)...) })
	return out
}

func (a *parentAdapter) SocketRooms(id rooms.SocketID) []rooms.Room {
	var out []rooms.Room
	a.each(func(c rooms.Adapter) {
		if out == nil {
			out = c.SocketRooms(id)
		}
	})
	return out
}

func (a *parentAdapter) FetchSockets(opts *rooms.Options) ([]rooms.SocketInfo, error) {
	var out []rooms.SocketInfo
	var err error
	a.each(func(c rooms.Adapter) {
		s, e := c.FetchSockets(opts)
		out = append(out, s...)
		if e != nil {
			err = e
		}
	})
	return out, err
}

func (a *parentAdapter) AddSockets(opts *rooms.Options, rs []rooms.Room) {
	a.each(func(c rooms.Adapter) { c.AddSockets(opts, rs) })
}

func (a *parentAdapter) DelSockets(opts *rooms.Options, rs []rooms.Room) {
	a.each(func(c rooms.Adapter) { c.DelSockets(opts, rs) })
}

func (a *parentAdapter) DisconnectSockets(opts *rooms.Options, close bool) {
	a.each(func(c rooms.Adapter) { c.DisconnectSockets(opts, close) })
}

func (a *parentAdapter) ServerSideEmit(*rooms.Packet, func(int), func([]byte, [][]byte)) error {
	return rooms.ErrUnsupported
}

func (a *parentAdapter) Rooms() []rooms.Room {
	var out []rooms.Room
	a.each(func(c rooms.Adapter) { out = append(out, c.Rooms()...) })
	return out
}

func (a *parentAdapter) Close() error { return nil }
