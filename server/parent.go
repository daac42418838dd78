package server

import (
	"sync"

	"github.com/riptide-io/riptide/rooms"
)

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

// BroadcastWithAck reports one count, the children's sum, once every child reported its own:
// a cluster adapter's count comes later (when the other nodes answered), and the caller
// must not take a first child's count for the whole.
func (a *parentAdapter) BroadcastWithAck(p *rooms.Packet, opts *rooms.Options, ackID func(rooms.Member) int64, onCount func(int), onReply func([]byte, [][]byte)) error {
	children := a.srv.children(a.parent)
	if len(children) == 0 {
		onCount(0)
		return nil
	}
	var mu sync.Mutex
	left, total := len(children), 0
	count := func(n int) {
		mu.Lock()
		total += n
		left--
		done, sum := left == 0, total
		mu.Unlock()
		if done {
			onCount(sum)
		}
	}
	var err error
	for _, c := range children {
		if e := c.adapter.BroadcastWithAck(p.Copy(), opts, ackID, count, onReply); e != nil && err == nil {
			err = e
		}
	}
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
