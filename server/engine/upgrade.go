package engine

import (
	"time"

	"github.com/gobwas/ws"
	"github.com/valyala/bytebufferpool"

	"github.com/riptide-io/riptide/codec/eio"
	"github.com/riptide-io/riptide/codec/wsframe"
)

// The WebSocket side of the session: the probe of a polling -> WebSocket upgrade and the
// loop's turn on an open WebSocket. Transitions only; the Listener reads and writes.

// probeOpen is the transition for a WebSocket that asks to upgrade this session. false:
// refuse it (already upgraded or upgrading, or closing); the reference accepts the
// WebSocket and then closes it.
func (s *Session) probeOpen(c netConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.transport == WebSocket || s.upg != nil {
		return false
	}
	u := &upgrade{s: s, probe: c}
	u.timer.Init(u)
	s.upg = u
	s.srv.wheel.Schedule(&u.timer, time.Now().Add(s.srv.opts.UpgradeTimeout))
	return true
}

// isProbe reports whether c is still this session's upgrade probe.
func (s *Session) isProbe(c netConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upg != nil && s.upg.probe == c
}

var probeReply = wsframe.AppendFrame(nil, ws.OpText, []byte("3probe"))

// probePacket is the transition for a packet read on the probe c, following the reference's
// _maybeUpgrade: "2probe" is answered with "3probe" and the parked GET is released with a
// noop; "5" moves the session onto c, and what was held is re-encoded as frames; anything
// else ends the upgrade. Frames to write on c are appended to dst. keep is false when the
// probe must close; upgraded is true once c carries the session.
func (s *Session) probePacket(c netConn, p eio.Packet, dst []byte) (_ []byte, keep, upgraded bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.upg == nil || s.upg.probe != c || s.state != stateOpen {
		return dst, false, false
	}
	switch {
	case p.Type == eio.Ping && string(p.Data) == "probe":
		dst = append(dst, probeReply...)
		s.upg.probed = true
		if s.get != nil {
			s.noop = true
			_ = s.get.Wake(nil)
		}
		return dst, true, false
	case p.Type == eio.Upgrade:
		s.srv.wheel.Stop(&s.upg.timer)
		s.upg = nil
		held := s.takeOutLocked()
		s.transport = WebSocket
		s.conn = c
		s.srv.stats.Upgrades.Add(1)
		s.srv.stats.WebSockets.Add(1)
		s.wakeQueued = false
		if held != nil {
			forEachRecord(held.B, func(p eio.Packet) { dst = appendWSPacket(dst, p.Type, p.Data, p.Binary) })
			bytebufferpool.Put(held)
		}
		if s.get != nil {
			s.noop = true
			_ = s.get.Wake(nil)
		}
		return dst, true, true
	default:
		s.abortUpgradeLocked()
		return dst, false, false
	}
}

// probeGone is the transition for a probe whose connection closed or failed: the session
// stays on polling.
func (s *Session) probeGone(c netConn) {
	s.mu.Lock()
	if s.upg != nil && s.upg.probe == c {
		s.abortUpgradeLocked()
	}
	s.mu.Unlock()
}

// Fire implements deadline.Firer for the upgrade timeout: the probe WebSocket is closed and
// the session stays on polling, as in the reference.
func (u *upgrade) Fire(time.Time) {
	s := u.s
	s.mu.Lock()
	if s.upg == u {
		s.abortUpgradeLocked()
	}
	s.mu.Unlock()
}

// abortUpgradeLocked drops the probe and hands held packets back to polling.
func (s *Session) abortUpgradeLocked() {
	u := s.upg
	if u == nil {
		return
	}
	s.upg = nil
	s.srv.wheel.Stop(&u.timer)
	_ = u.probe.Wake(nil) // its loop sees it is no longer the probe and closes it
	s.noop = false
	if s.out != nil && s.get != nil {
		s.wakeLocked(s.get)
	}
}

// wsTurn is the transition at the start of the loop's turn on the session's WebSocket: the
// loop reads frames only when it returns true (open and not paused). Sends during the turn
// are flushed by wsEndTurn instead of waking the loop.
func (s *Session) wsTurn() (read bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inLoop = true
	return s.state == stateOpen && !s.paused
}

// wsEndTurn is the transition at the end of the loop's turn: it hands over what to write
// (the caller writes and releases it, then closes flushed if not nil) and whether the
// connection must close after it (the session is closing or closed).
func (s *Session) wsEndTurn() (out *bytebufferpool.ByteBuffer, flushed chan struct{}, closeConn bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inLoop = false
	s.wakeQueued = false
	out = s.takeOutLocked()
	flushed = s.flushed
	s.flushed = nil
	return out, flushed, s.state != stateOpen
}

// written records what the connection still holds unsent after a write on the session's
// WebSocket; past WriteHardLimit the session is closed as a slow consumer.
func (s *Session) written(backlog int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backlog = backlog
	if backlog > s.srv.opts.WriteHardLimit && s.state == stateOpen {
		s.slowLocked()
	}
}
