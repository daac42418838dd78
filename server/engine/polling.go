package engine

import (
	"encoding/binary"

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
	s.unlockAfterAnswer(closing)
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
	s.unlockAfterAnswer(closing)
	return dst, act
}

// unlockAfterAnswer releases mu; when the answer carried a server-side close's packet
// (closing), the session ends, with the reason its close was given.
func (s *Session) unlockAfterAnswer(closing bool) {
	reason := s.closeReason
	s.mu.Unlock()
	if closing {
		s.terminate(reason)
	}
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
	if s.post != nil && s.post.c == c {
		s.releasePostLocked()
	}
	s.mu.Unlock()
	if parked {
		s.transportClosed(ReasonTransportError)
	}
}

// heldPost is a POST whose answer waits while the session is paused, with the packets of
// its payload not delivered yet (queue records), so a pause takes effect after the packet
// during which it was asked for, as on WebSocket.
type heldPost struct {
	c    netConn
	rest *bytebufferpool.ByteBuffer // nil when every packet was delivered
	off  int                        // the next record in rest
}

// pollPost delivers the packets of one POST (decoded whole beforehand: a bad packet closes
// the session and none is delivered). It reports whether the answer must wait: the handler
// paused the session while taking them, so the packets after that one and the POST's "ok"
// are held until Resume; the client, which sends one POST at a time, sends no more
// meanwhile.
func (s *Session) pollPost(c netConn, pkts []eio.Packet) (hold bool) {
	for i, p := range pkts {
		if !s.onPacket(p) {
			return false
		}
		if s.Paused() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.state != stateOpen {
				return false
			}
			h := &heldPost{c: c}
			if rest := pkts[i+1:]; len(rest) > 0 {
				h.rest = bytebufferpool.Get()
				for _, p := range rest {
					h.rest.B = appendRecord(h.rest.B, p.Type, p.Data, p.Binary)
				}
			}
			s.post = h
			return true
		}
	}
	return false
}

// postResume is the transition for a held POST on c whose loop woke: it delivers the held
// packets while the session is not paused, and reports whether the POST may now be answered
// (everything delivered, or the session ended).
func (s *Session) postResume(c netConn) bool {
	for {
		s.mu.Lock()
		h := s.post
		if h == nil || h.c != c {
			s.mu.Unlock()
			return true
		}
		if s.state != stateOpen {
			s.releasePostLocked()
			s.mu.Unlock()
			return true
		}
		if s.paused {
			s.mu.Unlock()
			return false
		}
		if h.rest == nil || h.off >= len(h.rest.B) {
			s.releasePostLocked()
			s.mu.Unlock()
			return true
		}
		b := h.rest.B[h.off:]
		n := int(binary.LittleEndian.Uint32(b[2:6]))
		p := eio.Packet{Type: eio.Type(b[0]), Binary: b[1] == 1, Data: b[recordHeader : recordHeader+n]}
		h.off += recordHeader + n
		s.mu.Unlock()
		if !s.onPacket(p) { // the buffer stays ours until releasePostLocked
			return s.postResume(c)
		}
	}
}

func (s *Session) releasePostLocked() {
	if s.post.rest != nil {
		bytebufferpool.Put(s.post.rest)
	}
	s.post = nil
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
