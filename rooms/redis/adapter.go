package redis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
)

// Adapter is the rooms.Adapter of one namespace in a Cluster: local membership and delivery
// in a rooms.Memory, and the same operations carried to the other nodes through Redis.
// Methods are safe for concurrent use. Operations that wait for other nodes (FetchSockets,
// AllRooms, ServerCount, the acks of BroadcastWithAck and ServerSideEmit) wait at most
// Options.RequestsTimeout (or the broadcast's timeout flag), never for nodes whose heartbeats
// stopped, and fail at once with ErrUnavailable while Redis is unreachable.
type Adapter struct {
	c       *Cluster
	host    rooms.Host
	nsp     string
	uid     string
	local   *rooms.Memory
	rec     *recovery // nil unless Options.Recovery
	tail    *tail     // with rec: delivers the stored broadcasts (tail.go)
	sharded bool
	mode    SubscriptionMode

	bcast   string // classic K#NSP#; sharded K#NSP# (every message)
	reqCh   string // classic K-request#NSP#
	respCh  string // classic K-response#NSP#
	ownResp string // classic K-response#NSP#UID#; sharded K#NSP#UID#

	mu       sync.Mutex
	closed   bool
	pending  map[string]*request
	peers    map[string]*peer
	roomSubs map[string]struct{} // sharded, dynamic modes: rooms with their own channel
}

// peer is another riptide node, known from its heartbeats.
type peer struct {
	name     string
	lastSeen time.Time
}

func newAdapter(c *Cluster, host rooms.Host) *Adapter {
	nsp := host.Name()
	a := &Adapter{
		c:        c,
		host:     host,
		nsp:      nsp,
		local:    rooms.NewMemory(host, rooms.MemoryOptions{}),
		sharded:  c.opts.Sharded,
		mode:     c.opts.SubscriptionMode,
		pending:  map[string]*request{},
		peers:    map[string]*peer{},
		roomSubs: map[string]struct{}{},
	}
	key := c.opts.Key
	if a.sharded {
		a.uid = newID(16, hexDigits) // socket.io-adapter's randomId(): 8 random bytes in hex
		a.bcast = key + "#" + nsp + "#"
		a.ownResp = a.bcast + a.uid + "#"
	} else {
		a.uid = newID(6, alnum) // uid2(6), as the Node adapter
		a.bcast = key + "#" + nsp + "#"
		a.reqCh = key + "-request#" + nsp + "#"
		a.respCh = key + "-response#" + nsp + "#"
		a.ownResp = a.respCh + a.uid + "#"
	}
	if ro := c.opts.Recovery; ro != nil {
		a.rec = newRecovery(key, nsp, *ro, c.opts.HeartbeatInterval)
	}
	return a
}

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexDigits = "0123456789abcdef"
)

// newID makes uids and request ids; tests replace it to compare messages byte for byte.
var newID = randomID

func randomID(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (a *Adapter) start() {
	if a.rec != nil {
		a.startTail()
	}
	var applied <-chan struct{}
	if a.sharded {
		applied = a.c.subscribe(a, subShard, a.bcast, a.ownResp)
	} else {
		a.c.subscribe(a, subPattern, a.bcast+"*")
		applied = a.c.subscribe(a, subChannel, a.reqCh, a.respCh, a.ownResp)
	}
	if a.c.Up() {
		// Wait (a little) for the subscriptions, so that what this node asks right after
		// it started gets its answers. Without Redis there is nothing to wait for.
		select {
		case <-applied:
		case <-time.After(2 * time.Second):
		}
	}
	if a.c.Up() {
		// Peers answer with their heartbeats; one that answers before our subscription is in
		// place is still counted (as a subscriber without heartbeats) until its next one.
		a.heartbeat(true)
	}
}

// UID returns the adapter's uid, the id other nodes see in its messages.
func (a *Adapter) UID() string { return a.uid }

// Local returns the in-memory adapter holding this node's members.
func (a *Adapter) Local() *rooms.Memory { return a.local }

// Local membership: the in-memory adapter, plus the room channels of the sharded dynamic
// modes.

// AddAll implements rooms.Adapter.
func (a *Adapter) AddAll(m rooms.Member, rs []rooms.Room) {
	if !a.joinRestored(m, rs) {
		a.local.AddAll(m, rs)
	}
	a.syncRoomSubs(rs, true)
	a.touch(m)
}

// Del implements rooms.Adapter.
func (a *Adapter) Del(m rooms.Member, room rooms.Room) {
	a.local.Del(m, room)
	a.syncRoomSubs([]rooms.Room{room}, false)
	a.touch(m)
}

// DelAll implements rooms.Adapter.
func (a *Adapter) DelAll(m rooms.Member) {
	var rs []rooms.Room
	if a.dynamic() {
		rs = a.local.SocketRooms(m.ID())
	}
	a.local.DelAll(m)
	a.syncRoomSubs(rs, false)
	a.forgetSession(m)
}

// Sockets implements rooms.Adapter: this node's sockets (as the Node adapter 8.x does).
func (a *Adapter) Sockets(rs []rooms.Room) []rooms.SocketID { return a.local.Sockets(rs) }

// SocketRooms implements rooms.Adapter.
func (a *Adapter) SocketRooms(id rooms.SocketID) []rooms.Room { return a.local.SocketRooms(id) }

// Rooms implements rooms.Adapter: this node's rooms; AllRooms asks the others too.
func (a *Adapter) Rooms() []rooms.Room { return a.local.Rooms() }

func (a *Adapter) dynamic() bool {
	return a.sharded && (a.mode == SubscriptionDynamic || a.mode == SubscriptionDynamicPrivate)
}

// syncRoomSubs subscribes to the channels of rooms that appeared here and unsubscribes from
// those of rooms that are gone (sharded dynamic modes, as createShardedAdapter does on
// create-room and delete-room). With wait, it waits (a little) until a new subscription is
// in place; the dispatcher never waits.
func (a *Adapter) syncRoomSubs(rs []rooms.Room, wait bool) {
	if !a.dynamic() || len(rs) == 0 {
		return
	}
	var add, del []string
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	for _, r := range rs {
		_, subscribed := a.roomSubs[r]
		want := (a.local.HasRoom(r) || a.rec.wanted(r)) && (a.mode == SubscriptionDynamicPrivate || !a.local.HasSocket(r))
		switch {
		case want && !subscribed:
			a.roomSubs[r] = struct{}{}
			add = append(add, a.bcast+r+"#")
		case !want && subscribed:
			delete(a.roomSubs, r)
			del = append(del, a.bcast+r+"#")
		}
	}
	a.mu.Unlock()
	if len(del) > 0 {
		a.c.unsubscribe(del...)
	}
	if len(add) > 0 {
		applied := a.c.subscribe(a, subShard, add...)
		if wait && a.c.Up() {
			// One round trip, so that a join is in force across the cluster when it returns
			// (the Node adapter does not wait, and loses broadcasts sent meanwhile).
			select {
			case <-applied:
			case <-time.After(time.Second):
			}
		}
	}
}

// Publishing.

func (a *Adapter) send(channel string, payload []byte, done func(error)) {
	a.c.publish(&outMsg{channel: channel, payload: payload, shard: a.sharded, done: done})
}

// shardedMsg builds {type, data, uid, nsp} around the JSON data (with placeholders for atts).
func (a *Adapter) shardedMsg(typ int, data []byte, atts [][]byte) []byte {
	js := make([]byte, 0, len(data)+len(a.uid)+len(a.nsp)+40)
	js = append(js, `{"type":`...)
	js = strconv.AppendInt(js, int64(typ), 10)
	if data != nil {
		js = append(js, `,"data":`...)
		js = append(js, data...)
	}
	js = append(js, `,"uid":`...)
	js = sio.AppendQuote(js, a.uid)
	js = append(js, `,"nsp":`...)
	js = sio.AppendQuote(js, a.nsp)
	js = append(js, '}')
	return encode(js, atts, false)
}

// classicReq builds a classic request {uid[, requestId], type, rest...}.
func (a *Adapter) classicReq(typ int, reqID string, rest string) []byte {
	js := make([]byte, 0, 64+len(rest))
	js = append(js, `{"uid":`...)
	js = sio.AppendQuote(js, a.uid)
	if reqID != "" {
		js = append(js, `,"requestId":`...)
		js = sio.AppendQuote(js, reqID)
	}
	js = append(js, `,"type":`...)
	js = strconv.AppendInt(js, int64(typ), 10)
	js = append(js, rest...)
	return append(js, '}')
}

// appendPacket writes socket.io-parser's packet {type: 2, data[, nsp]}: EVENT even with
// binary, which the receiving server's encoder turns into BINARY_EVENT.
func appendPacket(dst []byte, p *rooms.Packet, nsp string) []byte {
	dst = append(dst, `{"type":2,"data":`...)
	dst = append(dst, p.Data...)
	if nsp != "" {
		dst = append(dst, `,"nsp":`...)
		dst = sio.AppendQuote(dst, nsp)
	}
	return append(dst, '}')
}

// Broadcast implements rooms.Adapter: other nodes get the packet through Redis (unless the
// local flag is set), this node's members at once. Without Redis only the local delivery
// happens; the lost publish is counted in Stats.OutboxDropped. With Options.Recovery, a
// packet recovery keeps is first given its offset by Redis (see RecoveryOptions), and
// every node delivers it from the stream, in offset order (tail.go); Broadcast returns
// once this node has. It then waits for Redis, and must not be called from an event loop.
func (a *Adapter) Broadcast(p *rooms.Packet, opts *rooms.Options) {
	if opts.Flags.Local {
		a.local.Broadcast(p, opts)
		return
	}
	if a.rec != nil && rooms.Recoverable(p, opts) {
		if id := a.store(p, opts); id != (streamID{}) {
			a.publishBroadcast(p, opts, true) // for the nodes that do not read the stream
			a.awaitTail(id)
			return
		}
	}
	a.publishBroadcast(p, opts, false)
	a.local.Broadcast(p, opts)
}

// publishBroadcast sends p to the other nodes; stored marks a packet in the recovery
// stream, which the nodes reading the stream skip.
func (a *Adapter) publishBroadcast(p *rooms.Packet, opts *rooms.Options, stored bool) {
	if a.sharded {
		data := make([]byte, 0, len(p.Data)+96)
		data = append(data, `{"packet":`...)
		data = appendPacket(data, p, "")
		data = append(data, `,"opts":`...)
		data = appendBroadcastOpts(data, opts, true, stored)
		data = append(data, '}')
		a.send(a.shardedChannel(opts), a.shardedMsg(sBroadcast, data, p.Attachments), nil)
		return
	}
	// [uid, packet, opts] in msgpack, written directly: this is the hot path.
	buf := make([]byte, 0, len(p.Data)+64+totalLen(p.Attachments))
	buf = mpArray(buf, 3)
	buf = mpStr(buf, a.uid)
	buf = mpMap(buf, 3)
	buf = mpStr(buf, "type")
	buf = mpNumber(buf, 2)
	buf = mpStr(buf, "data")
	var err error
	if buf, err = jsonToMsgpack(buf, p.Data, p.Attachments); err != nil {
		a.c.stats.outboxDropped.Add(1)
		return
	}
	buf = mpStr(buf, "nsp")
	buf = mpStr(buf, a.nsp)
	o := appendBroadcastOpts(nil, opts, true, stored)
	if buf, err = jsonToMsgpack(buf, o, nil); err != nil {
		return
	}
	ch := a.bcast
	if len(opts.Rooms) == 1 {
		ch += opts.Rooms[0] + "#"
	}
	a.send(ch, buf, nil)
}

func totalLen(atts [][]byte) int {
	n := 0
	for _, b := range atts {
		n += len(b) + 5
	}
	return n
}

// shardedChannel is createShardedAdapter's computeChannel for a broadcast without acks.
func (a *Adapter) shardedChannel(opts *rooms.Options) string {
	if len(opts.Rooms) == 1 {
		r := opts.Rooms[0]
		if a.mode == SubscriptionDynamicPrivate || a.mode == SubscriptionDynamic && len(r) != 20 {
			return a.bcast + r + "#"
		}
	}
	return a.bcast
}

// BroadcastWithAck implements rooms.Adapter. The local members are asked at once; the other
// nodes get the packet, each answers how many members it asked and forwards their acks (the
// first argument of each, as Node does). onCount is called once all nodes alive have
// reported their count.
func (a *Adapter) BroadcastWithAck(p *rooms.Packet, opts *rooms.Options, ackID func(rooms.Member) int64, onCount func(int), onReply func([]byte, [][]byte)) error {
	localCount := 0
	_ = a.local.BroadcastWithAck(p, opts, ackID, func(n int) { localCount = n }, nil)
	if opts.Flags.Local {
		onCount(localCount)
		return nil
	}
	timeout := opts.Flags.Timeout
	if timeout <= 0 {
		timeout = a.c.opts.RequestsTimeout
	}
	r, err := a.ask(kBroadcast, timeout, func(id string) []byte {
		if a.sharded {
			data := make([]byte, 0, len(p.Data)+128)
			data = append(data, `{"packet":`...)
			data = appendPacket(data, p, "")
			data = append(data, `,"requestId":`...)
			data = sio.AppendQuote(data, id)
			data = append(data, `,"opts":`...)
			data = appendOpts(data, opts, true)
			data = append(data, '}')
			return a.shardedMsg(sBroadcast, data, p.Attachments)
		}
		js := make([]byte, 0, len(p.Data)+128)
		js = append(js, `{"uid":`...)
		js = sio.AppendQuote(js, a.uid)
		js = append(js, `,"requestId":`...)
		js = sio.AppendQuote(js, id)
		js = append(js, `,"type":7,"packet":`...)
		js = appendPacket(js, p, a.nsp)
		js = append(js, `,"opts":`...)
		js = appendOpts(js, opts, true)
		js = append(js, '}')
		return encode(js, p.Attachments, true)
	}, func(r *request) {
		r.localCount, r.onCount, r.onReply = localCount, onCount, onReply
	})
	if err != nil {
		onCount(localCount)
		return err
	}
	_ = r // it ends on its own: counted, then kept for late acks until the timeout
	return nil
}

// FetchSockets implements rooms.Adapter: this node's sockets and the other nodes'. Remote
// sockets carry their data and handshake as json.RawMessage. On a timeout the sockets that
// arrived are returned with a *PartialError.
func (a *Adapter) FetchSockets(opts *rooms.Options) ([]rooms.SocketInfo, error) {
	local, _ := a.local.FetchSockets(opts)
	for i := range local {
		local[i].Node = a.uid
	}
	if opts.Flags.Local {
		return local, nil
	}
	timeout := a.c.opts.RequestsTimeout
	if a.sharded && opts.Flags.Timeout > 0 {
		timeout = opts.Flags.Timeout // the cluster adapter's flags.timeout || 5000
	}
	r, err := a.ask(kFetch, timeout, func(id string) []byte { return a.fetchRequest(id, opts) }, nil)
	if err != nil {
		return local, err
	}
	err = r.wait()
	return append(local, r.fetched...), err
}

func (a *Adapter) fetchRequest(id string, opts *rooms.Options) []byte {
	if a.sharded {
		data := []byte(`{"opts":`)
		data = appendOpts(data, opts, true)
		data = append(data, `,"requestId":`...)
		data = sio.AppendQuote(data, id)
		data = append(data, '}')
		return a.shardedMsg(sFetch, data, nil)
	}
	return a.classicReq(cFetch, id, string(appendOpts([]byte(`,"opts":`), opts, false)))
}

// AllRooms returns the rooms of every node (classic: ALL_ROOMS requests; sharded: the rooms
// of every socket, which the cluster protocol offers through FETCH_SOCKETS).
func (a *Adapter) AllRooms() ([]rooms.Room, error) {
	set := map[rooms.Room]struct{}{}
	for _, r := range a.local.Rooms() {
		set[r] = struct{}{}
	}
	collect := func() []rooms.Room {
		out := make([]rooms.Room, 0, len(set))
		for r := range set {
			out = append(out, r)
		}
		slices.Sort(out)
		return out
	}
	var r *request
	var err error
	if a.sharded {
		r, err = a.ask(kFetch, a.c.opts.RequestsTimeout, func(id string) []byte { return a.fetchRequest(id, &rooms.Options{}) }, nil)
	} else {
		r, err = a.ask(kAllRooms, a.c.opts.RequestsTimeout, func(id string) []byte { return a.classicReq(cAllRooms, id, "") }, nil)
	}
	if err != nil {
		return collect(), err
	}
	err = r.wait()
	for _, s := range r.fetched {
		for _, rm := range s.Rooms {
			set[rm] = struct{}{}
		}
	}
	for rm := range r.rooms {
		set[rm] = struct{}{}
	}
	return collect(), err
}

// ServerCount returns the number of servers serving this namespace, this one included, as
// Redis counts the subscribers (the Node adapter's serverCount).
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if !a.c.Up() {
		return 1, ErrUnavailable
	}
	ch := a.reqCh
	if a.sharded {
		ch = a.bcast
	}
	n, err := a.c.numsub(ctx, []string{ch})
	if err != nil {
		return 1, err
	}
	return max(1, int(n[0])), nil
}

// Nodes returns the other riptide nodes known from their heartbeats, and whether each is
// alive (heard from within HeartbeatTimeout).
func (a *Adapter) Nodes() (alive, silent []Node) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	for uid, p := range a.peers {
		n := Node{UID: uid, Name: p.name}
		if now.Sub(p.lastSeen) <= a.c.opts.HeartbeatTimeout {
			alive = append(alive, n)
		} else {
			silent = append(silent, n)
		}
	}
	return alive, silent
}

// AddSockets implements rooms.Adapter.
func (a *Adapter) AddSockets(opts *rooms.Options, rs []rooms.Room) {
	touched := a.sessionMembers(opts)
	a.local.AddSockets(opts, rs)
	a.syncRoomSubs(rs, !opts.Flags.Local) // Local: from another node, on the dispatcher
	a.touchAll(touched)
	if !opts.Flags.Local {
		a.publishMembership(sJoin, cJoin, opts, rs)
	}
}

// DelSockets implements rooms.Adapter.
func (a *Adapter) DelSockets(opts *rooms.Options, rs []rooms.Room) {
	touched := a.sessionMembers(opts)
	a.local.DelSockets(opts, rs)
	a.syncRoomSubs(rs, false)
	a.touchAll(touched)
	if !opts.Flags.Local {
		a.publishMembership(sLeave, cLeave, opts, rs)
	}
}

func (a *Adapter) publishMembership(st, ct int, opts *rooms.Options, rs []rooms.Room) {
	if a.sharded {
		data := []byte(`{"opts":`)
		data = appendOpts(data, opts, true)
		data = append(data, `,"rooms":`...)
		data = appendStrs(data, rs)
		data = append(data, '}')
		a.send(a.bcast, a.shardedMsg(st, data, nil), nil)
		return
	}
	rest := appendOpts([]byte(`,"opts":`), opts, false)
	rest = append(rest, `,"rooms":`...)
	rest = appendStrs(rest, rs)
	a.send(a.reqCh, a.classicReq(ct, "", string(rest)), nil)
}

// DisconnectSockets implements rooms.Adapter.
func (a *Adapter) DisconnectSockets(opts *rooms.Options, close bool) {
	if !opts.Flags.Local {
		if a.sharded {
			data := []byte(`{"opts":`)
			data = appendOpts(data, opts, true)
			data = append(data, `,"close":`...)
			data = strconv.AppendBool(data, close)
			data = append(data, '}')
			a.send(a.bcast, a.shardedMsg(sDisconnect, data, nil), nil)
		} else {
			rest := appendOpts([]byte(`,"opts":`), opts, false)
			rest = append(rest, `,"close":`...)
			rest = strconv.AppendBool(rest, close)
			a.send(a.reqCh, a.classicReq(cDisconnect, "", string(rest)), nil)
		}
	}
	a.local.DisconnectSockets(opts, close)
}

// ServerSideEmit implements rooms.Adapter. Without onReply the event is published and
// forgotten; with it, onCount gets the number of nodes asked (those alive) and onReply each
// node's answer, a JSON array holding its first ack argument. Fails with ErrUnavailable
// while Redis is unreachable.
func (a *Adapter) ServerSideEmit(p *rooms.Packet, onCount func(int), onReply func([]byte, [][]byte)) error {
	build := func(id string) []byte {
		if a.sharded {
			data := make([]byte, 0, len(p.Data)+48)
			data = append(data, '{')
			if id != "" {
				data = append(data, `"requestId":`...)
				data = sio.AppendQuote(data, id)
				data = append(data, ',')
			}
			data = append(data, `"packet":`...)
			data = append(data, p.Data...)
			data = append(data, '}')
			return a.shardedMsg(sSSE, data, p.Attachments)
		}
		return encode(a.classicReq(cSSE, id, `,"data":`+string(p.Data)), p.Attachments, false)
	}
	if onReply == nil {
		if a.isClosed() {
			return ErrClosed
		}
		if !a.c.Up() {
			return ErrUnavailable
		}
		ch := a.reqCh
		if a.sharded {
			ch = a.bcast
		}
		a.send(ch, build(""), nil)
		return nil
	}
	r, err := a.ask(kSSE, a.c.opts.RequestsTimeout, build, func(r *request) { r.onReply = onReply })
	if err != nil {
		return err
	}
	if onCount != nil {
		onCount(r.asked)
	}
	return nil
}

// Close implements rooms.Adapter: the other nodes are told this node leaves, the channels
// are given up and pending requests end with ErrClosed.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	pend := a.pending
	a.pending = map[string]*request{}
	var rs []string
	for r := range a.roomSubs {
		rs = append(rs, a.bcast+r+"#")
	}
	a.mu.Unlock()
	for _, r := range pend {
		r.finish(ErrClosed)
	}
	if a.c.Up() {
		a.sendHeartbeat(kBye)
	}
	if a.sharded {
		a.c.unsubscribe(append(rs, a.bcast, a.ownResp)...)
	} else {
		a.c.unsubscribe(a.bcast+"*", a.reqCh, a.respCh, a.ownResp)
	}
	a.c.forget(a)
	a.stopTail()
	return nil
}

func (a *Adapter) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// Heartbeats and membership.

// prune forgets peers silent for very long (crashed without a goodbye and never counted by
// a request since), so that restarts do not accumulate.
func (a *Adapter) prune() {
	limit := max(10*a.c.opts.HeartbeatTimeout, time.Minute)
	a.mu.Lock()
	defer a.mu.Unlock()
	for uid, p := range a.peers {
		if time.Since(p.lastSeen) > limit {
			delete(a.peers, uid)
		}
	}
}

func (a *Adapter) heartbeat(hello bool) {
	if hello {
		a.sendHeartbeat(kHello)
	} else {
		a.sendHeartbeat(kHeartbeat)
	}
}

func (a *Adapter) sendHeartbeat(k kind) {
	name := sio.AppendQuote(nil, a.c.opts.NodeName)
	st, ct := sHeartbeat, cHeartbeat
	switch k {
	case kHello:
		st, ct = sHello, cHello
	case kBye:
		st, ct = sBye, cBye
	}
	if a.sharded {
		a.send(a.bcast, a.shardedMsg(st, append(append([]byte(`{"name":`), name...), '}'), nil), nil)
		return
	}
	a.send(a.reqCh, a.classicReq(ct, "", `,"name":`+string(name)), nil)
}

// seen records a message from uid: heartbeats make a peer known, anything else only
// refreshes a known one (Node.js nodes, which send no heartbeats, stay anonymous).
func (a *Adapter) seen(uid, name string, heartbeat bool) {
	if uid == "" || uid == "emitter" || uid == a.uid {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.peers[uid]
	if p == nil {
		if !heartbeat {
			return
		}
		p = &peer{}
		a.peers[uid] = p
	}
	if name != "" {
		p.name = name
	}
	p.lastSeen = time.Now()
}

func (a *Adapter) onUp() { a.heartbeat(true) }

// onDown fails every pending request at once: no answer can arrive without a connection.
func (a *Adapter) onDown() {
	a.mu.Lock()
	pend := a.pending
	a.pending = map[string]*request{}
	a.mu.Unlock()
	for _, r := range pend {
		r.finish(ErrUnavailable)
	}
}

// census counts who should answer a request: the riptide peers alive and subscribed, by
// uid; the subscribers without heartbeats (Node.js nodes), by number; and the peers still
// subscribed but silent for longer than HeartbeatTimeout (hung), which are not waited for.
// Peers no longer subscribed are forgotten.
func (a *Adapter) census(ctx context.Context) (expect map[string]Node, anon int, silent []Node, err error) {
	type snap struct {
		uid  string
		p    peer
		chnl string
	}
	a.mu.Lock()
	snaps := make([]snap, 0, len(a.peers))
	for uid, p := range a.peers {
		ch := a.respCh + uid + "#"
		if a.sharded {
			ch = a.bcast + uid + "#"
		}
		snaps = append(snaps, snap{uid, *p, ch})
	}
	a.mu.Unlock()
	chans := make([]string, 0, 1+len(snaps))
	if a.sharded {
		chans = append(chans, a.bcast)
	} else {
		chans = append(chans, a.reqCh)
	}
	for _, s := range snaps {
		chans = append(chans, s.chnl)
	}
	counts, err := a.c.numsub(ctx, chans)
	if err != nil {
		return nil, 0, nil, err
	}
	others := int(counts[0]) - 1
	expect = map[string]Node{}
	subscribed := 0
	now := time.Now()
	var gone []string
	for i, s := range snaps {
		if counts[i+1] == 0 {
			gone = append(gone, s.uid)
			continue
		}
		subscribed++
		n := Node{UID: s.uid, Name: s.p.name}
		if now.Sub(s.p.lastSeen) <= a.c.opts.HeartbeatTimeout {
			expect[s.uid] = n
		} else {
			silent = append(silent, n)
		}
	}
	if len(gone) > 0 {
		a.mu.Lock()
		for _, uid := range gone {
			if p := a.peers[uid]; p != nil && !p.lastSeen.After(now) {
				delete(a.peers, uid)
			}
		}
		a.mu.Unlock()
	}
	return expect, max(0, others-subscribed), silent, nil
}

// Requests to other nodes.

// request is a question to the other nodes and the answers so far.
type request struct {
	kind    kind
	id      string
	expect  map[string]Node // riptide nodes still to answer
	anon    int             // answers still expected from nodes without heartbeats
	silent  []Node
	asked   int
	done    chan struct{}
	once    sync.Once
	err     error
	timer   *time.Timer
	op      string
	start   time.Time   // when it was asked, for Stats.Requests
	timed   atomic.Bool // its duration was recorded
	results sync.Mutex  // guards the fields below
	fetched []rooms.SocketInfo
	rooms   map[string]struct{}
	// broadcasts with acks
	localCount, remoteCount int
	counted                 sync.Once
	onCount                 func(int)
	onReply                 func([]byte, [][]byte)
}

func (r *request) finish(err error) {
	r.once.Do(func() {
		r.err = err
		if r.timer != nil {
			r.timer.Stop()
		}
		close(r.done)
	})
}

func (r *request) wait() error {
	<-r.done
	return r.err
}

var opNames = map[kind]string{kFetch: "fetchSockets", kAllRooms: "allRooms", kSSE: "serverSideEmitWithAck", kBroadcast: "broadcastWithAck"}

// ask counts the nodes that should answer, registers the request and publishes it. The
// request ends when they all answered, when timeout passes (with a *PartialError), or when
// the connection is lost (ErrUnavailable).
func (a *Adapter) ask(k kind, timeout time.Duration, build func(id string) []byte, setup func(*request)) (*request, error) {
	if a.isClosed() {
		return nil, ErrClosed
	}
	if !a.c.Up() {
		return nil, ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	expect, anon, silent, err := a.census(ctx)
	if err != nil && ctx.Err() == nil {
		// A pooled connection that died with the last outage fails once, then is replaced.
		expect, anon, silent, err = a.census(ctx)
	}
	cancel()
	if err != nil {
		return nil, ErrUnavailable
	}
	r := &request{kind: k, id: a.requestID(), expect: expect, anon: anon, silent: silent,
		asked: len(expect) + anon, done: make(chan struct{}), op: opNames[k], rooms: map[string]struct{}{},
		start: time.Now()}
	if setup != nil {
		setup(r)
	}
	if r.asked == 0 {
		a.complete(r)
		return r, nil
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	a.pending[r.id] = r
	a.mu.Unlock()
	r.timer = time.AfterFunc(timeout, func() { a.expire(r) }) // one per cross-node request in flight, not per socket
	ch := a.reqCh
	if a.sharded {
		ch = a.bcast
	}
	a.send(ch, build(r.id), func(err error) {
		if err != nil {
			a.drop(r)
			r.finish(ErrUnavailable)
		}
	})
	return r, nil
}

// requestID has the form Node's requesters use: uid2(6) (classic), randomId() (sharded).
func (a *Adapter) requestID() string {
	if a.sharded {
		return newID(16, hexDigits)
	}
	return newID(6, alnum)
}

func (a *Adapter) drop(r *request) {
	a.mu.Lock()
	if a.pending[r.id] == r {
		delete(a.pending, r.id)
	}
	a.mu.Unlock()
}

// timed records how long r took, once: when its last node answered, or at its timeout.
func (a *Adapter) timed(r *request) {
	if r.timed.CompareAndSwap(false, true) {
		a.c.stats.requests[r.kind].Observe(time.Since(r.start))
	}
}

// expire ends r at its timeout with what arrived.
func (a *Adapter) expire(r *request) {
	a.timed(r)
	a.drop(r)
	if r.kind == kBroadcast {
		r.finish(nil)
		return
	}
	a.mu.Lock()
	missing := slices.Clone(r.silent)
	for _, n := range r.expect {
		missing = append(missing, n)
	}
	anon := r.anon
	a.mu.Unlock()
	slices.SortFunc(missing, func(x, y Node) int { return strings.Compare(x.Name+x.UID, y.Name+y.UID) })
	r.finish(&PartialError{Op: r.op, Missing: missing, Unidentified: anon})
}

// complete ends r once everyone answered; silent nodes still make it partial. A broadcast
// with acks stays registered until its timeout, for the acks still to come (as Node keeps
// its ackRequests).
func (a *Adapter) complete(r *request) {
	a.timed(r)
	if r.kind == kBroadcast {
		if r.onCount != nil {
			r.results.Lock()
			n := r.localCount + r.remoteCount
			r.results.Unlock()
			r.counted.Do(func() { r.onCount(n) })
		}
		return
	}
	a.drop(r)
	if len(r.silent) > 0 {
		r.finish(&PartialError{Op: r.op, Missing: slices.Clone(r.silent)})
		return
	}
	r.finish(nil)
}

// answered records one node's answer (uid "" for Node.js nodes) and tells whether the
// request is complete. A node that answers twice (a count and acks) counts once.
func (a *Adapter) answered(r *request, uid string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := r.expect[uid]; ok && uid != "" {
		delete(r.expect, uid)
	} else if r.anon > 0 {
		r.anon--
	}
	return len(r.expect) == 0 && r.anon == 0
}

// The removal of a peer (goodbye) also settles requests that waited only for it.
func (a *Adapter) removePeer(uid string) {
	a.mu.Lock()
	delete(a.peers, uid)
	var done []*request
	for _, r := range a.pending {
		if _, ok := r.expect[uid]; ok {
			delete(r.expect, uid)
			if len(r.expect) == 0 && r.anon == 0 {
				done = append(done, r)
			}
		}
	}
	a.mu.Unlock()
	for _, r := range done {
		a.complete(r)
	}
}

// Receiving.

// onMessage handles one message from channel, on the dispatcher goroutine: it must not
// block (everything it calls queues).
func (a *Adapter) onMessage(channel string, body []byte) {
	if a.isClosed() {
		return
	}
	var m msg
	var err error
	response := false
	switch {
	case a.sharded:
		response = channel == a.ownResp
		m, err = decodeSharded(body)
		if err == nil && (m.uid == a.uid || m.hasNsp && m.nsp != a.nsp) {
			return
		}
	case channel == a.reqCh:
		m, err = decodeClassic(body, false)
		if err == nil && m.uid == a.uid {
			return // our own request, already applied here
		}
	case channel == a.respCh || channel == a.ownResp:
		response = true
		m, err = decodeClassic(body, true)
	case strings.HasPrefix(channel, a.bcast):
		room := channel[len(a.bcast):]
		if room != "" {
			room = room[:len(room)-1]
			if !a.local.HasRoom(room) && !a.rec.wanted(room) {
				return // no member here: skip the decoding (as the Node adapter does)
			}
		}
		m, err = decodeClassicBroadcast(body)
		if err == nil && (m.uid == a.uid || m.hasNsp && m.nsp != a.nsp || !m.hasNsp && a.nsp != "/") {
			return
		}
	default:
		return
	}
	if err != nil {
		a.c.stats.undecodable.Add(1)
		return
	}
	switch m.kind {
	case kHello, kHeartbeat, kBye:
	default:
		a.seen(m.uid, "", false)
	}
	if response || m.kind >= rFetch {
		a.onResponse(&m)
		return
	}
	a.onRequest(&m)
}

func (a *Adapter) onRequest(m *msg) {
	switch m.kind {
	case kHello:
		a.seen(m.uid, m.name, true)
		a.heartbeat(false)
	case kHeartbeat:
		a.seen(m.uid, m.name, true)
	case kBye:
		a.removePeer(m.uid)
	case kBroadcast:
		p := &rooms.Packet{Type: uint8(m.ptype), Data: m.data, Attachments: m.atts, ID: -1}
		if len(m.atts) > 0 && p.Type == 2 {
			p.Type = 5 // BINARY_EVENT
		}
		opts := m.opts
		opts.Flags.Local = false
		if m.reqID == "" {
			if m.stored && a.rec != nil {
				return // delivered from the stream (tail.go)
			}
			a.local.Broadcast(p, &opts)
			return
		}
		a.answerBroadcast(m, p, &opts)
	case kJoin, kLeave, kDisconnect:
		a.onMembership(m)
	case kFetch:
		a.answerFetch(m)
	case kSockets:
		ids := a.local.Sockets(strs(m.rooms))
		a.respond(m, 0, append(appendStrs([]byte(`"sockets":`), ids), ','), nil)
	case kAllRooms:
		a.respond(m, 0, append(appendStrs([]byte(`"rooms":`), a.local.Rooms()), ','), nil)
	case kSSE:
		a.answerSSE(m)
	}
}

func (a *Adapter) onMembership(m *msg) {
	if !m.hasOpts {
		// The legacy form (socket.io-redis 5/6, still answered by the Node adapter 8):
		// one socket by id, answered with {requestId}. By id, not as the room of that name:
		// other sockets may have joined a room named like it.
		mem := a.local.LocalMember(m.sid)
		if mem == nil {
			return
		}
		switch m.kind {
		case kJoin:
			a.local.AddAll(mem, []rooms.Room{m.room})
			a.syncRoomSubs([]rooms.Room{m.room}, false)
			a.touch(mem)
		case kLeave:
			a.Del(mem, m.room)
		case kDisconnect:
			mem.Disconnect(m.close)
		}
		a.respond(m, 0, nil, nil)
		return
	}
	opts := m.opts
	opts.Flags.Local = true
	switch m.kind {
	case kJoin:
		a.AddSockets(&opts, strs(m.rooms))
	case kLeave:
		a.DelSockets(&opts, strs(m.rooms))
	case kDisconnect:
		a.local.DisconnectSockets(&opts, m.close)
	}
}

func (a *Adapter) answerFetch(m *msg) {
	opts := m.opts
	infos, _ := a.local.FetchSockets(&opts)
	out := []byte(`"sockets":[`)
	for i, s := range infos {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"id":`...)
		out = sio.AppendQuote(out, s.ID)
		out = append(out, `,"handshake":`...)
		out = appendJSONValue(out, s.Member.HandshakeData(), "{}")
		out = append(out, `,"rooms":`...)
		out = appendStrs(out, s.Rooms)
		out = append(out, `,"data":`...)
		out = appendJSONValue(out, s.Member.Data(), "{}") // Node's socket.data starts as {}
		out = append(out, '}')
	}
	out = append(out, "],"...)
	a.respond(m, sFetchResp, out, nil)
}

// appendJSONValue writes v as JSON (json.RawMessage as is); nil or unencodable values as def.
func appendJSONValue(dst []byte, v any, def string) []byte {
	if v == nil {
		return append(dst, def...)
	}
	if raw, ok := v.(json.RawMessage); ok && json.Valid(raw) {
		return append(dst, raw...)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, def...)
	}
	return append(dst, b...)
}

func (a *Adapter) answerSSE(m *msg) {
	if m.uid == a.uid || !m.hasData {
		return
	}
	var ack func([]byte, [][]byte)
	if m.reqID != "" {
		ack = func(reply []byte, atts [][]byte) {
			arg := firstArg(reply)
			if a.sharded {
				a.respond(m, sSSEResp, appendArgField(nil, "packet", arg), atts)
				return
			}
			// Node answers a server-side emit on the shared response channel, with its type.
			js := []byte(`{"type":6,"requestId":`)
			js = sio.AppendQuote(js, m.reqID)
			if arg != nil {
				js = append(js, `,"data":`...)
				js = append(js, arg...)
			}
			js = append(js, `,"uid":`...)
			js = sio.AppendQuote(js, a.uid)
			js = append(js, '}')
			a.send(a.respCh, encode(js, atts, false), nil)
		}
	}
	a.host.ServerSideEvent(m.data, m.atts, ack)
}

func appendArgField(dst []byte, key string, arg []byte) []byte {
	if arg == nil {
		return dst
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	dst = append(dst, arg...)
	return append(dst, ',')
}

// answerBroadcast runs a broadcast with acks another node asked for: the count of members
// asked goes back first, then each member's first ack argument as it arrives.
func (a *Adapter) answerBroadcast(m *msg, p *rooms.Packet, opts *rooms.Options) {
	ackID := func(mem rooms.Member) int64 {
		am, ok := mem.(rooms.AckMember)
		if !ok {
			return -1
		}
		id, ok := am.RegisterAck(func(reply []byte, atts [][]byte) {
			arg := firstArg(reply)
			if a.sharded {
				a.respond(m, sAck, appendArgField(nil, "packet", arg), atts)
				return
			}
			a.respondClassic(m, cAck, appendArgField(nil, "packet", arg), atts, true)
		})
		if !ok {
			return -1
		}
		return id
	}
	onCount := func(n int) {
		if a.sharded {
			a.respond(m, sCount, strconv.AppendInt([]byte(`"clientCount":`), int64(n), 10), nil)
			return
		}
		a.respondClassic(m, cCount, append(strconv.AppendInt([]byte(`"clientCount":`), int64(n), 10), ','), nil, false)
	}
	_ = a.local.BroadcastWithAck(p, opts, ackID, onCount, nil)
}

// respond answers request m. fields are JSON members, each followed by a comma (classic) or
// not (sharded: they form the data object with requestId). typ is the sharded message type.
func (a *Adapter) respond(m *msg, typ int, fields []byte, atts [][]byte) {
	if a.sharded {
		data := []byte(`{"requestId":`)
		data = sio.AppendQuote(data, m.reqID)
		if f := strings.TrimSuffix(string(fields), ","); f != "" {
			data = append(data, ',')
			data = append(data, f...)
		}
		data = append(data, '}')
		if m.uid == "" {
			return
		}
		a.send(a.bcast+m.uid+"#", a.shardedMsg(typ, data, atts), nil)
		return
	}
	a.respondClassic(m, -1, fields, atts, false)
}

// respondClassic writes {[type,] requestId, fields..., uid} to the response channel (the
// requester's own one with PublishOnSpecificResponseChannel, as publishResponse does).
func (a *Adapter) respondClassic(m *msg, typ int, fields []byte, atts [][]byte, asMsgpack bool) {
	if m.reqID == "" {
		return
	}
	js := []byte{'{'}
	if typ >= 0 {
		js = append(js, `"type":`...)
		js = strconv.AppendInt(js, int64(typ), 10)
		js = append(js, ',')
	}
	js = append(js, `"requestId":`...)
	js = sio.AppendQuote(js, m.reqID)
	js = append(js, ',')
	js = append(js, fields...)
	js = append(js, `"uid":`...)
	js = sio.AppendQuote(js, a.uid)
	js = append(js, '}')
	ch := a.respCh
	if a.c.opts.PublishOnSpecificResponseChannel && m.uid != "" {
		ch = a.respCh + m.uid + "#"
	}
	a.send(ch, encode(js, atts, asMsgpack), nil)
}

func (a *Adapter) onResponse(m *msg) {
	if m.kind == kHello || m.kind == kHeartbeat || m.kind == kBye {
		a.onRequest(m)
		return
	}
	a.mu.Lock()
	r := a.pending[m.reqID]
	a.mu.Unlock()
	if r == nil {
		return
	}
	switch m.kind {
	case rCount:
		if r.kind != kBroadcast {
			return
		}
		r.results.Lock()
		r.remoteCount += m.count
		r.results.Unlock()
		if a.answered(r, m.uid) {
			a.complete(r)
		}
		return
	case rAck:
		if r.kind == kBroadcast && r.onReply != nil {
			r.onReply(argArray(m), m.atts)
		}
		return
	case rSSE:
		if r.kind != kSSE {
			return
		}
		r.onReply(argArray(m), m.atts)
	case rFetch, rSockets, rAllRooms:
		r.results.Lock()
		switch r.kind {
		case kFetch:
			n := len(r.fetched)
			r.fetched = append(r.fetched, parseSockets(m.sockets)...)
			for i := n; i < len(r.fetched); i++ {
				r.fetched[i].Node = m.uid
			}
		case kAllRooms:
			for _, rm := range strs(m.rooms) {
				r.rooms[rm] = struct{}{}
			}
		}
		r.results.Unlock()
	default:
		return
	}
	if a.answered(r, m.uid) {
		a.complete(r)
	}
}

// argArray wraps an answer's single value as an argument array.
func argArray(m *msg) []byte {
	if !m.hasData {
		return []byte("[]")
	}
	out := make([]byte, 0, len(m.data)+2)
	out = append(out, '[')
	out = append(out, m.data...)
	return append(out, ']')
}

// parseSockets reads the sockets of a fetch answer.
func parseSockets(v []byte) []rooms.SocketInfo {
	var out []rooms.SocketInfo
	it := sio.NewArrayIter(v)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		var s rooms.SocketInfo
		_ = eachField(e, func(k, val []byte) {
			switch string(k) {
			case "id":
				s.ID = str(val)
			case "rooms":
				s.Rooms = strs(val)
			case "data":
				s.Data = json.RawMessage(slices.Clone(val))
			case "handshake":
				s.Handshake = json.RawMessage(slices.Clone(val))
			}
		})
		if s.ID != "" {
			out = append(out, s)
		}
	}
	return out
}
