package redis

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/rooms"
)

// The restore window. RestoreSession reads the stream at some moment; the server adds the
// restored socket to its rooms (AddAll) a little later. Broadcasts cross that gap two ways:
//
//   - stored after the read and delivered here before the join: no one would hand them to
//     the socket. They are recorded, and appended to its missed packets at the join.
//   - stored before the read (so replayed) but delivered here after the join, this
//     node's tail (tail.go) not there yet: the socket would get them twice. For a while after the join
//     (replayedKept), packets whose offset is not past the last one replayed skip it.
//
// Offsets order the two: what the read returned ends at restore.last. Both checks run only
// while this node has restores in progress or recently joined, and look only at the
// restores in the rooms a packet is addressed to.

const (
	// windowMax bounds the packets recorded for one restore in progress.
	windowMax = 4096
	// restoreStale is how long a restore may wait for its AddAll before it is forgotten
	// (a middleware refused the socket, or the client left).
	restoreStale = 30 * time.Second
	// replayedKept is how long after its join a restored socket is kept from getting live
	// what it was replayed: longer than any publish stays in flight.
	replayedKept = 10 * time.Second
)

// window holds the restores in progress on this node and those joined recently.
type window struct {
	// join orders local deliveries (read lock) against the join of a restored socket
	// (write lock), so a packet is either recorded for the restore or delivered to the
	// joined socket. Taken only while n > 0.
	join sync.RWMutex
	n    atomic.Int32 // len(byID)

	wmu    sync.Mutex // guards the fields below and the restores in them; inside join
	byID   map[rooms.SocketID]*restore
	byRoom map[rooms.Room][]*restore
}

// restore is one session restored on this node.
type restore struct {
	s       *rooms.Session
	last    streamID // the last entry the stream read returned (the client's offset if none)
	read    bool     // last is final
	got     []recorded
	started time.Time
	joined  time.Time // zero until AddAll
}

type recorded struct {
	id streamID
	p  *rooms.Packet
}

func newWindow() window {
	return window{byID: map[rooms.SocketID]*restore{}, byRoom: map[rooms.Room][]*restore{}}
}

// add registers rst and returns the restores in progress it made stale (another restore
// of the same socket, or old ones).
func (w *window) add(rst *restore) (gone []*restore) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if old := w.byID[rst.s.SID]; old != nil {
		gone = append(gone, w.removeLocked(old)...)
	}
	gone = append(gone, w.expireLocked(rst.started)...)
	w.byID[rst.s.SID] = rst
	for _, r := range rst.s.Rooms {
		w.byRoom[r] = append(w.byRoom[r], rst)
	}
	w.n.Store(int32(len(w.byID)))
	return gone
}

func (w *window) remove(rst *restore) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.removeLocked(rst)
}

// removeLocked takes rst out and returns it when it was still waiting for its join.
func (w *window) removeLocked(rst *restore) []*restore {
	if w.byID[rst.s.SID] != rst {
		return nil
	}
	delete(w.byID, rst.s.SID)
	for _, r := range rst.s.Rooms {
		list := slices.DeleteFunc(w.byRoom[r], func(x *restore) bool { return x == rst })
		if len(list) == 0 {
			delete(w.byRoom, r)
		} else {
			w.byRoom[r] = list
		}
	}
	w.n.Store(int32(len(w.byID)))
	if rst.joined.IsZero() {
		return []*restore{rst}
	}
	return nil
}

// expire forgets the restores that waited too long for their join and those joined long
// enough ago; it returns the former.
func (w *window) expire(now time.Time) []*restore {
	if w.n.Load() == 0 {
		return nil
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.expireLocked(now)
}

func (w *window) expireLocked(now time.Time) (gone []*restore) {
	for _, rst := range w.byID {
		if rst.joined.IsZero() && now.Sub(rst.started) > restoreStale ||
			!rst.joined.IsZero() && now.Sub(rst.joined) > replayedKept {
			gone = append(gone, w.removeLocked(rst)...)
		}
	}
	return gone
}

// read records the end of the stream read of rst.
func (w *window) read(rst *restore, last streamID) {
	w.wmu.Lock()
	rst.last, rst.read = last, true
	w.wmu.Unlock()
}

// route looks at a stored packet (offset id) about to be delivered here: restores in
// progress it is addressed to record it; it returns the restored sockets that must not
// get it (replayed already). Caller holds join for reading.
func (w *window) route(id streamID, p *rooms.Packet, opts *rooms.Options, dropped *atomic.Uint64) (skip []rooms.SocketID) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	visit := func(rst *restore) {
		if !rst.s.Includes(opts.Rooms, opts.Except) {
			return
		}
		switch {
		case rst.joined.IsZero() && len(rst.got) >= windowMax:
			dropped.Add(1)
		case rst.joined.IsZero():
			rst.got = append(rst.got, recorded{id, p})
		case !rst.last.less(id):
			skip = append(skip, rst.s.SID)
		}
	}
	if len(opts.Rooms) == 0 {
		for _, rst := range w.byID {
			visit(rst)
		}
		return skip
	}
	var seen []*restore // a restore in two of the rooms is visited once
	for _, r := range opts.Rooms {
		for _, rst := range w.byRoom[r] {
			if len(opts.Rooms) > 1 && slices.Contains(seen, rst) {
				continue
			}
			seen = append(seen, rst)
			visit(rst)
		}
	}
	return skip
}

// wants reports whether a restore in progress needs the broadcasts to room, so that they
// are neither skipped nor left unsubscribed for lack of local members.
func (w *window) wants(room rooms.Room) bool {
	if w.n.Load() == 0 {
		return false
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	for _, rst := range w.byRoom[room] {
		if rst.joined.IsZero() {
			return true
		}
	}
	return false
}

// restoring reports whether sid is being restored (its join still to come).
func (w *window) restoring(sid rooms.SocketID) bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	rst := w.byID[sid]
	return rst != nil && rst.joined.IsZero()
}

// joined marks the restore of sid joined and returns it, or nil when sid is not being
// restored. The packets recorded since the read and not returned by it join the missed
// packets, in offset order. Caller holds join for writing.
func (w *window) joined(sid rooms.SocketID) *restore {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	rst := w.byID[sid]
	if rst == nil || !rst.joined.IsZero() || !rst.read {
		return nil
	}
	rst.joined = time.Now()
	slices.SortStableFunc(rst.got, func(x, y recorded) int {
		switch {
		case x.id.less(y.id):
			return -1
		case y.id.less(x.id):
			return 1
		}
		return 0
	})
	for _, g := range rst.got {
		if rst.last.less(g.id) {
			rst.s.MissedPackets = append(rst.s.MissedPackets, g.p)
			rst.last = g.id
		}
	}
	rst.got = nil
	return rst
}

// deliverStored hands a stored broadcast (offset id) to this node's members; while
// restores are in the window, it is routed by it. The tail calls it, in offset order.
func (a *Adapter) deliverStored(id streamID, p *rooms.Packet, opts *rooms.Options) {
	r := a.rec
	if r.n.Load() == 0 {
		a.local.Broadcast(p, opts)
		return
	}
	r.join.RLock()
	defer r.join.RUnlock()
	if skip := r.route(id, p, opts, &a.c.stats.restoreWindowDropped); len(skip) > 0 {
		// By id room: also skips other sockets that joined a room named like the restored
		// socket's id, for this one in-flight packet.
		o := *opts
		o.Except = append(slices.Clip(opts.Except), skip...)
		opts = &o
	}
	a.local.Broadcast(p, opts)
}

// joinRestored adds m to rs like AddAll when m is a socket being restored, its recorded
// packets appended to its missed ones first; it reports false when m is not.
func (a *Adapter) joinRestored(m rooms.Member, rs []rooms.Room) bool {
	r := a.rec
	if r == nil || r.n.Load() == 0 || !r.restoring(m.ID()) {
		return false
	}
	r.join.Lock()
	defer r.join.Unlock()
	if r.joined(m.ID()) == nil {
		return false
	}
	a.local.AddAll(m, rs)
	return true
}

// wanted is wants for an adapter whose recovery may be off.
func (r *recovery) wanted(room rooms.Room) bool { return r != nil && r.wants(room) }
