package tier

import (
	"slices"
	"strconv"
	"strings"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/server"
)

// roomArgs returns an event's room (from its first argument, or the RoomField of its first
// argument) and the raw public data (DataField of the object, or the second argument of the
// built-in join). has is false when the event names no room.
func roomArgs(ev *server.Event, r *eventRule) (room string, data []byte, has bool, e *Error) {
	first := ev.Raw(0)
	if r.RoomField == "" {
		if len(first) == 0 {
			return "", nil, false, nil
		}
		room, ok := ev.String(0)
		if !ok {
			return "", nil, true, errs[RoomInvalid]
		}
		return room, ev.Raw(1), true, nil
	}
	if len(first) == 0 || first[0] != '{' {
		if len(first) == 0 || string(first) == "null" {
			return "", nil, false, nil
		}
		return "", nil, true, errs[EventInvalid]
	}
	v, ok := sio.ObjectField(first, r.RoomField)
	if !ok {
		return "", nil, false, nil
	}
	b, err := sio.AppendUnquote(nil, v)
	if err != nil || len(v) == 0 || v[0] != '"' {
		return "", nil, true, errs[RoomInvalid]
	}
	if r.DataField != "" {
		data, _ = sio.ObjectField(first, r.DataField)
	}
	return string(b), data, true, nil
}

// looksLikeSocketID reports whether room has the shape of a socket id (20 characters of the
// URL-safe base64 alphabet, as riptide and Node generate them): such a room is a socket's
// own room, where its direct messages go, and no client may join or publish to it.
func looksLikeSocketID(room string) bool {
	if len(room) != 20 {
		return false
	}
	for i := 0; i < len(room); i++ {
		c := room[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkRoom returns the rule of a room a client names, or the refusal.
func (p *Policy) checkRoom(s *server.Socket, room string) (*roomRule, *Error) {
	if room == "" || len(room) > p.cfg.MaxRoomBytes {
		return nil, errs[RoomInvalid]
	}
	if looksLikeSocketID(room) || room == s.ID() || strings.HasPrefix(room, "#") {
		return nil, errs[RoomForbidden]
	}
	rr := p.room(room)
	if rr == nil {
		return nil, errs[RoomUnknown]
	}
	return rr, nil
}

// mayJoin reports whether the caller may join a room of rule rr.
func (p *Policy) mayJoin(rr *roomRule, room string, id *Identity) bool {
	switch rr.Join {
	case JoinServer:
		return false
	case JoinProxy: // and then the backend decides
		return id != nil && rr.pat.MatchFor(room, id)
	case JoinAnyone:
		return !rr.pat.HasPlaceholders() || rr.pat.MatchFor(room, id)
	case JoinGranted:
		return id != nil && rr.pat.MatchFor(room, id) && id.Granted(rr.GrantClaim, room)
	default: // authenticated, match
		return id != nil && rr.pat.MatchFor(room, id)
	}
}

// join runs a join: the checks, the member store, the adapter, the answer and the presence
// notice.
func (p *Policy) join(s *server.Socket, ev *server.Event, r *eventRule, id *Identity) *Error {
	room, data, has, e := roomArgs(ev, r)
	if e != nil {
		return e
	}
	if !has {
		return errs[RoomInvalid]
	}
	rr, e := p.checkRoom(s, room)
	if e != nil {
		return e
	}
	if !p.mayJoin(rr, room, id) {
		return errs[RoomForbidden]
	}
	if rr.Join == JoinProxy {
		if e := p.proxyJoin(s, room, data, id); e != nil {
			return e
		}
	}
	var pub []byte
	if len(data) > 0 && string(data) != "null" {
		if data[0] != '{' || len(data) > p.cfg.MaxMemberData {
			return errs[EventInvalid]
		}
	} else {
		data = nil
	}
	var res JoinResult
	if rr.store() {
		pub = publicData(s, id, data)
		ctx, cancel := p.storeCtx()
		var err error
		res, err = p.cfg.Members.Join(ctx, room, s.ID(), pub, rr.MaxMembers, rr.Presence)
		cancel()
		if err != nil {
			return &Error{Code: RoomUnavailable, Message: RoomUnavailable.Message(), Details: err.Error()}
		}
		if !res.OK {
			return errs[RoomFull]
		}
		st := p.state(s)
		st.mu.Lock()
		if i := st.index(room); i >= 0 {
			st.joined[i].pub = pub
		} else {
			st.joined = append(st.joined, joinedRoom{room, pub})
		}
		st.mu.Unlock()
	}
	s.Join(room)
	if p.cfg.Webhooks != nil {
		p.cfg.Webhooks.Joined(s, room)
	}
	answer := p.answer(r, room, rr, &res)
	if rr.Presence {
		_ = s.To(room).Emit("user-joined", server.NewArgs(p.notice(room, pub, res.Members), nil))
	}
	p.reply(s, ev, r, answer)
	return nil
}

// leave runs a leave: of the named room, or of every room the socket is in when the event
// names none (a chat's "leave-room" that leaves the current room).
func (p *Policy) leave(s *server.Socket, ev *server.Event, r *eventRule) *Error {
	room, _, has, e := roomArgs(ev, r)
	if e != nil {
		return e
	}
	if !has {
		for _, room := range s.Rooms() {
			if room != s.ID() {
				p.leaveRoom(s, room, p.room(room))
			}
		}
		p.reply(s, ev, r, []byte(`{"ok":true}`))
		return nil
	}
	rr, e := p.checkRoom(s, room)
	if e != nil {
		return e
	}
	p.leaveRoom(s, room, rr)
	p.reply(s, ev, r, p.answer(r, room, rr, nil))
	return nil
}

// leaveRoom takes s out of room, the member store, and tells the others.
func (p *Policy) leaveRoom(s *server.Socket, room string, rr *roomRule) {
	if p.cfg.Webhooks != nil && s.InRoom(room) {
		p.cfg.Webhooks.Left(s, room)
	}
	s.Leave(room)
	if rr == nil || !rr.store() {
		return
	}
	st := p.state(s)
	st.mu.Lock()
	i := st.index(room)
	var j joinedRoom
	if i >= 0 {
		j = st.joined[i]
		st.joined = slices.Delete(st.joined, i, i+1)
	}
	st.mu.Unlock()
	if i < 0 {
		return
	}
	p.forget(s.Namespace(), s, j, rr)
}

// forget removes s from a room's members and sends the presence notice; s may be gone.
func (p *Policy) forget(ns *server.Namespace, s *server.Socket, j joinedRoom, rr *roomRule) {
	room := j.room
	ctx, cancel := p.storeCtx()
	members, err := p.cfg.Members.Leave(ctx, room, s.ID(), rr.Presence)
	cancel()
	if err != nil {
		p.log.Warn("tier: member store leave failed; the member expires with its TTL", "room", room, "err", err)
		return
	}
	if rr.Presence {
		_ = ns.To(room).Except(s.ID()).Emit("user-left", server.NewArgs(p.notice(room, j.pub, members), nil))
	}
}

// onDisconnect leaves the member store for the rooms the socket had joined.
func (p *Policy) onDisconnect(s *server.Socket, _ server.DisconnectReason) {
	v, ok := p.states.LoadAndDelete(s)
	if !ok {
		return
	}
	st := v.(*sockState)
	st.mu.Lock()
	joined := st.joined
	st.joined = nil
	st.mu.Unlock()
	for _, j := range joined {
		if rr := p.room(j.room); rr != nil {
			p.forget(s.Namespace(), s, j, rr)
		}
	}
}

// publish relays an event to a room. The built-in one is publish(room, event, ...args);
// a declared one relays itself, its object argument with "sender" (the socket id) added.
func (p *Policy) publish(s *server.Socket, ev *server.Event, r *eventRule, id *Identity) *Error {
	var room string
	if r.RoomField == "" {
		var ok bool
		if room, ok = ev.String(0); !ok {
			return errs[RoomInvalid]
		}
	} else {
		var has bool
		var e *Error
		if room, _, has, e = roomArgs(ev, r); e != nil {
			return e
		} else if !has {
			return errs[RoomInvalid]
		}
	}
	rr, e := p.checkRoom(s, room)
	if e != nil {
		return e
	}
	switch rr.Publish {
	case PublishNone:
		return errs[RoomForbidden]
	case PublishMembers:
		if !s.InRoom(room) {
			return errs[RoomNotMember]
		}
	}
	if r.RoomField == "" {
		event, ok := ev.String(1)
		if !ok || event == "" || server.IsReserved(event) {
			return errs[EventInvalid]
		}
		_ = s.To(room).Emit(event, ev.From(2))
	} else {
		_ = s.To(room).Emit(ev.Name, server.NewArgs(withSender(ev.Raw(0), s, id), ev.Attachments()))
	}
	if ev.HasAck() {
		_ = ev.Ack(okArgs)
	}
	return nil
}

// withSender returns [obj] with "sender" (and "senderUser" when the socket has an identity)
// added last, so they win over members of the same name that the client sent.
func withSender(obj []byte, s *server.Socket, id *Identity) []byte {
	b := make([]byte, 0, len(obj)+64)
	b = append(b, '[')
	b = append(b, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		b = append(b, ',')
	}
	b = append(b, `"sender":`...)
	b = sio.AppendQuote(b, s.ID())
	if id != nil {
		b = append(b, `,"senderUser":`...)
		b = sio.AppendQuote(b, id.User)
	}
	return append(b, "}]"...)
}

// publicData is a member as others see it: the data the client gave (an object) with
// "socketId" and "userId" added last, so a client cannot pose as another.
func publicData(s *server.Socket, id *Identity, data []byte) []byte {
	b := make([]byte, 0, len(data)+64)
	if len(data) > 2 {
		b = append(b, data[:len(data)-1]...)
		b = append(b, ',')
	} else {
		b = append(b, '{')
	}
	b = append(b, `"socketId":`...)
	b = sio.AppendQuote(b, s.ID())
	if id != nil {
		b = append(b, `,"userId":`...)
		b = sio.AppendQuote(b, id.User)
	}
	return append(b, '}')
}

// answer is a join's or leave's answer object: {ok, <room key>, count?, <members>?}.
func (p *Policy) answer(r *eventRule, room string, rr *roomRule, res *JoinResult) []byte {
	key := r.RoomField
	if key == "" {
		key = "room"
	}
	b := append(make([]byte, 0, 64), `{"ok":true,`...)
	b = sio.AppendQuote(b, key)
	b = append(b, ':')
	b = sio.AppendQuote(b, room)
	if res != nil && rr.store() {
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(res.Count), 10)
		if rr.Presence {
			b = append(b, ',')
			b = sio.AppendQuote(b, p.cfg.MembersField)
			b = append(b, ':')
			b = appendMembers(b, res.Members)
		}
	}
	return append(b, '}')
}

// notice is a presence notice's arguments: [{room, user, <members>}].
func (p *Policy) notice(room string, user []byte, members []Member) []byte {
	b := append(make([]byte, 0, 128), `[{"room":`...)
	b = sio.AppendQuote(b, room)
	b = append(b, `,"user":`...)
	b = append(b, user...)
	b = append(b, ',')
	b = sio.AppendQuote(b, p.cfg.MembersField)
	b = append(b, ':')
	b = appendMembers(b, members)
	return append(b, "}]"...)
}

func appendMembers(b []byte, ms []Member) []byte {
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		if len(m.Data) == 0 {
			b = append(b, `{"socketId":`...)
			b = sio.AppendQuote(b, m.ID)
			b = append(b, '}')
			continue
		}
		b = append(b, m.Data...)
	}
	return append(b, ']')
}

// reply acks the event with the answer object and sends the rule's Reply event with it.
func (p *Policy) reply(s *server.Socket, ev *server.Event, r *eventRule, answer []byte) {
	if ev.HasAck() || r.Reply != "" {
		args := server.NewArgs(append(append([]byte{'['}, answer...), ']'), nil)
		if ev.HasAck() {
			_ = ev.Ack(args)
		}
		if r.Reply != "" {
			_ = s.Emit(r.Reply, args)
		}
	}
}
