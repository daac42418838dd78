package engine

import (
	"github.com/valyala/bytebufferpool"

	"github.com/riptide-io/riptide/codec/eio"
)

// pollAction is what the Listener does with a long-poll GET after the session decided.
type pollAction uint8

const (
	pollAnswer         pollAction = iota // answer 200 with the payload built into dst
	pollPark                             // keep the GET open; a later pollRelease answers it
	pollOverlap                          // answer 400: a GET was already parked (the session is closed)
	pollWrongTransport                   // answer 400 {"code":3}: the session moved to WebSocket
	pollGone                             // the GET is no longer the session's: answer nothing
)

// pollGet is the transition for a GET that arrives on c, in the reference's order
// (Polling.onPollRequest). The payload for an answer is appended to dst.
//
// The one ladder serves both a new GET (parking allowed) and a parked GET whose loop was
// woken (pollRelease): what the session holds decides, in this order: a closed session gets
// a close packet; a noop is owed (upgrade or client close); an upgrade whose probe was
// answered forces a noop cycle; queued packets leave; a closing session with nothing queued
// gets noop+close; otherwise the GET waits.
func (s *Session) pollGet(c netConn, dst []byte) ([]byte, pollAction) {
	s.mu.Lock()
	if s.get != nil {
		// Overlapping GETs: the reference answers 400 and closes the session, whose pending
		// GET then gets a close packet.
		s.mu.Unlock()
		s.terminate(ReasonTransportError)
		return dst, pollOverlap
	}
	if s.transport != Polling {
		s.mu.Unlock() // upgraded between verify and here
		return dst, pollWrongTransport
	}
	dst, act, closing := s.pollLadderLocked(dst, true)
	if act == pollPark {
		s.get = c
		s.wakeQueued = false
	}
	reason := s.closeReason
	s.mu.Unlock()
	if closing {
		s.terminate(reason)
	}
	return dst, act
}

// pollRelease is the transition for a parked GET on c whose loop woke: it answers (pollAnswer)
// when the session has something for it, stays parked (pollPark), or reports that the GET is
// no longer the session's (pollGone).
func (s *Session) pollRelease(c netConn, dst []byte) ([]byte, pollAction) {
	s.mu.Lock()
	if s.get != c {
		s.mu.Unlock()
		return dst, pollGone
	}
	dst, act, closing := s.pollLadderLocked(dst, false)
	if act == pollAnswer {
		s.get = nil
	}
	s.wakeQueued = false
	reason := s.closeReason
	s.mu.Unlock()
	if closing {
		s.terminate(reason)
	}
	return dst, act
}

// pollLadderLocked is the one polling decision ladder. closing reports that the answer
// carries the close packet of a server-side close, so the caller ends the session after it.
func (s *Session) pollLadderLocked(dst []byte, fresh bool) (_ []byte, act pollAction, closing bool) {
	probed := s.upg != nil && s.upg.probed
	switch {
	case s.state == stateClosed:
		if s.noop && !fresh { // the client closed: its parked GET gets a noop (Polling.onClose)
			return append(dst, '6'), pollAnswer, false
		}
		return append(dst, '1'), pollAnswer, false
	case s.noop:
		s.noop = false
		return append(dst, '6'), pollAnswer, false
	case probed && fresh:
		// The reference forces a polling cycle so the upgrade can finish.
		return append(dst, '6'), pollAnswer, false
	case s.out != nil && !probed:
		// The reference flushes what was queued first; on a closing session the close
		// packet waits for the next poll, so a client handles those packets before it sees
		// the close.
		if s.state == stateClosing {
			s.armCloseWaitLocked()
		}
		return s.drainPollingLocked(dst), pollAnswer, false
	case s.state == stateClosing && fresh:
		return append(dst, '6', eio.Separator, '1'), pollAnswer, true // Polling.onPollRequest with shouldClose: noop, then close
	case s.state == stateClosing:
		return append(dst, '1'), pollAnswer, true
	}
	return dst, pollPark, false
}

// pollConnClosed is the transition for a parked GET whose connection dropped: the reference
// closes the session ("poll connection closed prematurely").
func (s *Session) pollConnClosed(c netConn) {
	s.mu.Lock()
	parked := s.get == c
	if parked {
		s.get = nil
	}
	if s.post == c {
		s.post = nil
	}
	s.mu.Unlock()
	if parked {
		s.transportClosed(ReasonTransportError)
	}
}

// pollPost delivers the packets of one POST (decoded whole beforehand: a bad packet closes
// the session and none is delivered). It reports whether the answer must wait: the handler
// paused the session while taking them, so the POST's "ok" is held until Resume, and the
// client, which sends one POST at a time, sends no more meanwhile.
func (s *Session) pollPost(c netConn, pkts []eio.Packet) (hold bool) {
	for _, p := range pkts {
		if !s.onPacket(p) {
			return false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused && s.state == stateOpen {
		s.post = c
		return true
	}
	return false
}

// postReleased reports whether a held POST on c may now be answered (the session resumed or
// ended).
func (s *Session) postReleased(c netConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.post != c {
		return true
	}
	if s.paused && s.state == stateOpen {
		return false
	}
	s.post = nil
	return true
}

// drainPollingLocked encodes the queued records as a polling payload and empties the queue.
func (s *Session) drainPollingLocked(dst []byte) []byte {
	out := s.takeOutLocked()
	if out == nil {
		return dst
	}
	forEachRecord(out.B, func(p eio.Packet) { dst = appendPayloadPacket(dst, p) })
	bytebufferpool.Put(out)
	return dst
}

// appendPayloadPacket appends p to a polling payload, with the separator when needed.
func appendPayloadPacket(dst []byte, p eio.Packet) []byte {
	if len(dst) > 0 {
		dst = append(dst, eio.Separator)
	}
	return eio.AppendPollingPacket(dst, p)
}
