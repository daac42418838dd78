package redis

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
)

// Connection state recovery across nodes (Options.Recovery).
//
// Offsets: a broadcast that recovery keeps (rooms.Recoverable: an event, not volatile,
// without acks, not local) is first appended to the namespace's stream with XADD; the
// entry id Redis returns is the offset, appended to the packet as its last argument. Every
// node, this one too, delivers it from the stream, in offset order (tail.go). The stream is trimmed by length at each XADD (MAXLEN ~) and by age at each heartbeat
// (MINID ~), and expires when no node writes to it.
//
// Sessions: a socket's session (sid, pid, rooms, data as JSON) is a key that expires. It is
// written when the socket connects and whenever its rooms change, marked live with the
// uid of its node, so that a node that dies without a word leaves its sockets' sessions
// behind; sweeps refresh them while the sockets live. When a socket disconnects for a
// reason recovery covers, its session is written once more, no longer live, with a TTL of
// MaxDisconnectionDuration; when it leaves for good, the key is deleted.
//
// RestoreSession refuses a live session whose node is still there (its socket is, or the
// node has not noticed yet that it is gone: the reference does not recover then either),
// takes the session with GETDEL (so it is restored once), checks that the client's offset
// is still in the stream (else entries after it may be gone: no recovery rather than a
// gap) and reads the entries after it addressed to the session's rooms. The restore window
// (window.go) covers what arrives meanwhile.

// RecoveryOptions configure connection state recovery in Redis (Options.Recovery).
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a dropped session can be restored; default
	// 2 minutes. Give the server's ConnectionStateRecovery.MaxDisconnectionDuration.
	MaxDisconnectionDuration time.Duration
	// MaxLen bounds each namespace's stream, approximately (XADD MAXLEN ~); default 10000,
	// the maxLen of Node's @socket.io/redis-streams-adapter. Entries also go after
	// MaxDisconnectionDuration. A client whose offset was trimmed is not recovered: size it
	// above the recoverable broadcasts of one namespace during MaxDisconnectionDuration.
	MaxLen int64
}

func (o RecoveryOptions) withDefaults() RecoveryOptions {
	if o.MaxDisconnectionDuration <= 0 {
		o.MaxDisconnectionDuration = 2 * time.Minute
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 10000
	}
	return o
}

// restorePage is the number of stream entries one XRANGE of a restore reads.
const restorePage = 1000

// recovery is an adapter's recovery state (nil when Options.Recovery is not set).
type recovery struct {
	window
	opts       RecoveryOptions
	stream     string // K-recovery#NSP#stream
	sessPrefix string // K-recovery#NSP#session# + pid
	maxLen     string
	liveTTL    time.Duration // of the sessions of live sockets: outlives a sweep interval
	sweepEvery time.Duration
	lastSweep  time.Time // heartbeat goroutine only

	mu        sync.Mutex
	persisted map[rooms.SocketID]struct{} // PersistSession called, DelAll to come
}

func newRecovery(key, nsp string, o RecoveryOptions, heartbeat time.Duration) *recovery {
	o = o.withDefaults()
	sweep := max(o.MaxDisconnectionDuration/2, heartbeat)
	prefix := key + "-recovery#" + nsp + "#"
	return &recovery{
		opts:       o,
		stream:     prefix + "stream",
		sessPrefix: prefix + "session#",
		maxLen:     strconv.FormatInt(o.MaxLen, 10),
		liveTTL:    o.MaxDisconnectionDuration + sweep + heartbeat,
		sweepEvery: sweep,
		lastSweep:  time.Now(),
		window:     newWindow(),
		persisted:  map[rooms.SocketID]struct{}{},
	}
}

// streamID is a Redis stream entry id, ms-seq.
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		ms, err1 := strconv.ParseUint(s[:i], 10, 64)
		seq, err2 := strconv.ParseUint(s[i+1:], 10, 64)
		return streamID{ms, seq}, err1 == nil && err2 == nil
	}
	return streamID{}, false
}

func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// lastOffset returns the offset a recoverable packet carries as its last argument.
func lastOffset(data []byte) (streamID, bool) {
	i := len(data) - 1
	for i >= 0 && data[i] != ']' {
		i--
	}
	i--
	for i >= 0 && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i--
	}
	if i < 0 || data[i] != '"' {
		return streamID{}, false
	}
	end := i
	i--
	for i >= 0 && (data[i] >= '0' && data[i] <= '9' || data[i] == '-') {
		i--
	}
	if i < 0 || data[i] != '"' {
		return streamID{}, false
	}
	return parseStreamID(bytesToString(data[i+1 : end]))
}

// Offsets.

// store gives p its offset: the id of the stream entry XADD makes of it. It waits for
// Redis (one round trip; concurrent callers share pipelined writes) and must not run on an
// event loop: broadcasts come from handler goroutines. When Redis cannot take the entry (or
// the tail has not started), p goes out without an offset (counted in
// Stats.RecoveryUnstored): its clients cannot recover past it, but it is delivered. It
// returns the id, zero when p got no offset.
func (a *Adapter) store(p *rooms.Packet, opts *rooms.Options) streamID {
	r := a.rec
	if !a.c.Up() || !a.tailReady() {
		a.c.stats.recoveryUnstored.Add(1)
		return streamID{}
	}
	b := a.c.client.B()
	fv := b.Xadd().Key(r.stream).Maxlen().Almost().Threshold(r.maxLen).Id("*").FieldValue().
		FieldValue("t", strconv.Itoa(int(p.Type))).
		FieldValue("d", bytesToString(p.Data))
	if len(opts.Rooms) > 0 {
		fv = fv.FieldValue("r", bytesToString(appendStrs(nil, opts.Rooms)))
	}
	if len(opts.Except) > 0 {
		fv = fv.FieldValue("x", bytesToString(appendStrs(nil, opts.Except)))
	}
	if opts.Flags.Compress {
		fv = fv.FieldValue("c", "1")
	}
	for i, att := range p.Attachments {
		fv = fv.FieldValue("b"+strconv.Itoa(i), bytesToString(att))
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	s, err := a.c.client.Do(ctx, fv.Build()).ToString()
	cancel()
	id, ok := parseStreamID(s)
	if err != nil || !ok {
		a.c.stats.recoveryUnstored.Add(1)
		return streamID{}
	}
	a.c.stats.recoveryStored.Add(1)
	p.Data = rooms.AppendOffset(p.Data, s)
	return id
}

// decodeEntry makes a stream entry the packet a client gets, its offset appended.
func decodeEntry(e rueidis.XRangeEntry) (p *rooms.Packet, rs, except []rooms.Room) {
	t, _ := strconv.Atoi(e.FieldValues["t"])
	p = &rooms.Packet{Type: uint8(t), Data: rooms.AppendOffset([]byte(e.FieldValues["d"]), e.ID), ID: -1}
	for i := 0; ; i++ {
		att, ok := e.FieldValues["b"+strconv.Itoa(i)]
		if !ok {
			break
		}
		p.Attachments = append(p.Attachments, []byte(att))
	}
	if v, ok := e.FieldValues["r"]; ok {
		rs = strs([]byte(v))
	}
	if v, ok := e.FieldValues["x"]; ok {
		except = strs([]byte(v))
	}
	return p, rs, except
}

// Sessions.

// sessionJSON writes {"sid","pid","rooms","data"[,"node"]}; node is the uid of the
// adapter of a live socket, "" once it disconnected.
func sessionJSON(sid, pid string, rs []rooms.Room, data any, node string) []byte {
	b := make([]byte, 0, 64+len(sid)+len(pid))
	b = append(b, `{"sid":`...)
	b = sio.AppendQuote(b, sid)
	b = append(b, `,"pid":`...)
	b = sio.AppendQuote(b, pid)
	b = append(b, `,"rooms":`...)
	b = appendStrs(b, rs)
	b = append(b, `,"data":`...)
	b = appendJSONValue(b, data, "null")
	if node != "" {
		b = append(b, `,"node":`...)
		b = sio.AppendQuote(b, node)
	}
	return append(b, '}')
}

// decodeSession reads what sessionJSON wrote; node is "" for a disconnected socket.
func decodeSession(raw string) (s *rooms.Session, node string, ok bool) {
	var v struct {
		SID   string          `json:"sid"`
		PID   string          `json:"pid"`
		Rooms []string        `json:"rooms"`
		Data  json.RawMessage `json:"data"`
		Node  string          `json:"node"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.SID == "" {
		return nil, "", false
	}
	s = &rooms.Session{SID: v.SID, PID: v.PID, Rooms: v.Rooms}
	if len(v.Data) > 0 && string(v.Data) != "null" {
		s.Data = v.Data
	}
	return s, v.Node, true
}

// liveSession returns the session of m as it is now, or nil when m is not here any more.
func (a *Adapter) liveSession(m rooms.Member) (key string, js []byte) {
	sm, ok := m.(rooms.SessionMember)
	if !ok || sm.PID() == "" || a.local.LocalMember(m.ID()) != m {
		return "", nil
	}
	return a.rec.sessPrefix + sm.PID(), sessionJSON(m.ID(), sm.PID(), a.local.SocketRooms(m.ID()), m.Data(), a.uid)
}

// touch queues a write of m's session, built when it is sent (so the latest rooms go out
// last, whatever the order of the calls).
func (a *Adapter) touch(m rooms.Member) {
	if a.rec == nil {
		return
	}
	if sm, ok := m.(rooms.SessionMember); !ok || sm.PID() == "" {
		return
	}
	ttl := a.rec.liveTTL
	a.c.publish(&outMsg{cmds: func(b rueidis.Builder, dst rueidis.Commands) rueidis.Commands {
		key, js := a.liveSession(m)
		if js == nil {
			return dst
		}
		return append(dst, b.Set().Key(key).Value(bytesToString(js)).PxMilliseconds(ttl.Milliseconds()).Build())
	}, done: a.c.countSessionWrite})
}

// sessionMembers returns the local members matched by opts whose sessions a change of
// rooms rewrites (none when recovery is off).
func (a *Adapter) sessionMembers(opts *rooms.Options) []rooms.SocketInfo {
	if a.rec == nil {
		return nil
	}
	infos, _ := a.local.FetchSockets(opts)
	return infos
}

func (a *Adapter) touchAll(infos []rooms.SocketInfo) {
	for _, s := range infos {
		a.touch(s.Member)
	}
}

// forgetSession deletes the session of m when it leaves for good (no PersistSession
// before its DelAll).
func (a *Adapter) forgetSession(m rooms.Member) {
	r := a.rec
	if r == nil {
		return
	}
	r.mu.Lock()
	_, kept := r.persisted[m.ID()]
	delete(r.persisted, m.ID())
	r.mu.Unlock()
	sm, ok := m.(rooms.SessionMember)
	if kept || !ok || sm.PID() == "" {
		return
	}
	key := r.sessPrefix + sm.PID()
	a.c.publish(&outMsg{cmds: func(b rueidis.Builder, dst rueidis.Commands) rueidis.Commands {
		return append(dst, b.Del().Key(key).Build())
	}, done: a.c.countSessionWrite})
}

// PersistSession implements rooms.SessionStore: the session of a socket that dropped is
// written with a TTL of MaxDisconnectionDuration. It queues the write and returns.
func (a *Adapter) PersistSession(s *rooms.Session) {
	r := a.rec
	if r == nil || s.PID == "" {
		return
	}
	r.mu.Lock()
	r.persisted[s.SID] = struct{}{}
	r.mu.Unlock()
	key, js := r.sessPrefix+s.PID, sessionJSON(s.SID, s.PID, s.Rooms, s.Data, "")
	ttl := r.opts.MaxDisconnectionDuration.Milliseconds()
	a.c.publish(&outMsg{cmds: func(b rueidis.Builder, dst rueidis.Commands) rueidis.Commands {
		return append(dst, b.Set().Key(key).Value(bytesToString(js)).PxMilliseconds(ttl).Build())
	}, done: a.c.countSessionWrite})
}

// errRestoreTooLong: more entries arrived while reading the stream than it holds.
var errRestoreTooLong = errors.New("redis: restore: the stream grew faster than it could be read")

// RestoreSession implements rooms.SessionStore: the session is taken from Redis (so it is
// restored once), with the stream entries after offset addressed to its rooms, in order.
// It returns nil when there is no such session, when it belongs to a socket still
// connected (on a node that is still there), or when the offset is no longer in the stream
// (entries after it may have been trimmed: no recovery rather than a gap). It waits for
// Redis (three round trips, four for a live session, and one per 1000 entries to replay);
// the server calls it from a handler goroutine.
func (a *Adapter) RestoreSession(pid, offset string) (*rooms.Session, error) {
	r := a.rec
	from, ok := parseStreamID(offset)
	if r == nil || pid == "" || !ok {
		return nil, nil
	}
	if !a.c.Up() {
		return nil, ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	defer cancel()
	b := a.c.client.B()
	key := r.sessPrefix + pid
	res := a.c.client.DoMulti(ctx,
		b.Get().Key(key).Build(),
		b.Xrange().Key(r.stream).Start(offset).End(offset).Build())
	raw, err := res[0].ToString()
	if err != nil && !rueidis.IsRedisNil(err) {
		return nil, err
	}
	s, node, ok := decodeSession(raw)
	at, err := res[1].AsXRange()
	if err != nil {
		return nil, err
	}
	if !ok || len(at) == 0 {
		a.c.stats.restoreRefused.Add(1)
		return nil, nil
	}
	if node != "" {
		alive, err := a.nodeHas(ctx, node, s.SID)
		if err != nil {
			return nil, err
		}
		if alive {
			a.c.stats.restoreRefused.Add(1)
			return nil, nil
		}
	}
	raw, err = a.c.client.Do(ctx, b.Getdel().Key(key).Build()).ToString()
	if err != nil && !rueidis.IsRedisNil(err) {
		return nil, err
	}
	if s, _, ok = decodeSession(raw); !ok { // another node took it meanwhile
		a.c.stats.restoreRefused.Add(1)
		return nil, nil
	}
	rst := a.beginRestore(s, from)
	last, err := a.readMissed(ctx, s, from)
	if err != nil {
		a.endRestore(rst)
		return nil, err
	}
	a.rec.read(rst, last)
	a.c.stats.restored.Add(1)
	return s, nil
}

// nodeHas reports whether the socket sid of a live session is still on node (the uid of
// its adapter): here, if it is this adapter; elsewhere, as long as that node's adapter is
// subscribed (Redis drops the subscriptions of a process that dies at once).
func (a *Adapter) nodeHas(ctx context.Context, node, sid string) (bool, error) {
	if node == a.uid {
		return a.local.HasSocket(sid), nil
	}
	ch := a.respCh + node + "#"
	if a.sharded {
		ch = a.bcast + node + "#"
	}
	n, err := a.c.numsub(ctx, []string{ch})
	if err != nil {
		return false, err
	}
	return n[0] > 0, nil
}

// readMissed appends to s the entries after from addressed to it, and returns the id of
// the last entry read.
func (a *Adapter) readMissed(ctx context.Context, s *rooms.Session, from streamID) (streamID, error) {
	r := a.rec
	last := from
	for pages := int64(0); ; pages++ {
		if pages > r.opts.MaxLen/restorePage+2 {
			return last, errRestoreTooLong
		}
		cmd := a.c.client.B().Xrange().Key(r.stream).Start("(" + last.String()).End("+").Count(restorePage).Build()
		entries, err := a.c.client.Do(ctx, cmd).AsXRange()
		if err != nil {
			return last, err
		}
		for _, e := range entries {
			id, ok := parseStreamID(e.ID)
			if !ok {
				continue
			}
			last = id
			p, rs, except := decodeEntry(e)
			if s.Includes(rs, except) {
				s.MissedPackets = append(s.MissedPackets, p)
			}
		}
		if len(entries) < restorePage {
			return last, nil
		}
	}
}

// beginRestore records, until the socket's AddAll, the broadcasts addressed to s that
// reach this node. In the sharded dynamic modes it subscribes to the session's rooms first.
func (a *Adapter) beginRestore(s *rooms.Session, from streamID) *restore {
	rst := &restore{s: s, last: from, started: time.Now()}
	a.endRestores(a.rec.add(rst))
	a.syncRoomSubs(s.Rooms, true)
	return rst
}

// endRestores forgets restores that will see no AddAll.
func (a *Adapter) endRestores(gone []*restore) {
	for _, rst := range gone {
		a.syncRoomSubs(rst.s.Rooms, false)
	}
}

func (a *Adapter) endRestore(rst *restore) {
	a.rec.remove(rst)
	a.syncRoomSubs(rst.s.Rooms, false)
}

// maintain runs at each heartbeat: the stream is trimmed by age and kept from expiring,
// stale restores are forgotten, and every MaxDisconnectionDuration/2 the sessions of the
// live sockets are refreshed (SET XX: a session deleted meanwhile stays deleted).
func (a *Adapter) maintain(now time.Time) {
	r := a.rec
	if r == nil {
		return
	}
	minID := strconv.FormatInt(now.Add(-r.opts.MaxDisconnectionDuration).UnixMilli(), 10)
	keep := (r.opts.MaxDisconnectionDuration + r.liveTTL).Milliseconds()
	a.c.publish(&outMsg{cmds: func(b rueidis.Builder, dst rueidis.Commands) rueidis.Commands {
		return append(dst,
			b.Xtrim().Key(r.stream).Minid().Almost().Threshold(minID).Build(),
			b.Pexpire().Key(r.stream).Milliseconds(keep).Build())
	}, done: func(error) {}})
	a.endRestores(r.expire(now))
	if now.Sub(r.lastSweep) < r.sweepEvery {
		return
	}
	r.lastSweep = now
	infos, _ := a.local.FetchSockets(&rooms.Options{Flags: rooms.Flags{Local: true}})
	const chunk = 256
	ttl := r.liveTTL.Milliseconds()
	for len(infos) > 0 {
		n := min(chunk, len(infos))
		part := infos[:n:n]
		infos = infos[n:]
		a.c.publish(&outMsg{cmds: func(b rueidis.Builder, dst rueidis.Commands) rueidis.Commands {
			for _, s := range part {
				if key, js := a.liveSession(s.Member); js != nil {
					dst = append(dst, b.Set().Key(key).Value(bytesToString(js)).Xx().PxMilliseconds(ttl).Build())
				}
			}
			return dst
		}, done: a.c.countSessionWrite})
	}
}
