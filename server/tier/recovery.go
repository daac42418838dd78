package tier

import "github.com/riptide-io/riptide/server"

// onRecovered runs when a socket comes back by connection state recovery. Its rooms are
// back as they were, but the drop left the member store: each counted room (max_members,
// presence) is joined again, with its presence notice, or left when it filled up meanwhile
// or the store fails. Restored rooms are not checked against the join rules again, as the
// reference does not: the server API joins rooms past them, and a recovered socket keeps
// those (a counted one is then counted, which it was not before the drop).
func (p *Policy) onRecovered(s *server.Socket) {
	if !s.Recovered() {
		return
	}
	id := IdentityOf(s)
	for _, room := range s.Rooms() {
		rr := p.room(room)
		if room == s.ID() || rr == nil || !rr.store() {
			continue
		}
		pub := publicData(s, id, nil)
		ctx, cancel := p.storeCtx()
		res, err := p.cfg.Members.Join(ctx, room, s.ID(), pub, rr.MaxMembers, rr.Presence)
		cancel()
		if err != nil || !res.OK {
			p.log.Info("tier: a recovered socket leaves a room the member store refused", "room", room, "sid", s.ID(), "err", err)
			s.Leave(room)
			continue
		}
		st := p.state(s)
		st.mu.Lock()
		if st.index(room) < 0 {
			st.joined = append(st.joined, joinedRoom{room, pub})
		}
		st.mu.Unlock()
		if rr.Presence {
			_ = s.To(room).Emit("user-joined", server.NewArgs(p.notice(room, pub, res.Members), nil))
		}
	}
}
