package wsframe

import (
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Assembler tracks one connection's fragmented message: whether a message is in
// progress, its opcode and the RSV bits of its first frame. It is 3 bytes, its
// zero value is ready, and it holds no payload: the server gathers fragment
// payloads in its own (pooled) buffer. Event loop only, like the connection.
type Assembler struct {
	op     ws.OpCode // opcode of the message in progress (text or binary)
	active bool      // a non-final data frame was seen and its final one was not
	rsv    byte      // RSV bits of the current/last message's first frame
}

// Frame feeds the header of each received frame, in order, and returns the
// opcode of the message the frame belongs to and whether the frame completes it.
//
// Control frames (close, ping, pong) may be passed or not: they are returned
// as-is (h.OpCode, true) and do not touch the state, since RFC 6455 5.4 lets
// them interleave with fragments. A continuation frame with no message in
// progress returns ErrUnexpectedContinuation; a text or binary frame while one
// is in progress returns ErrExpectedContinuation; a reserved opcode
// ErrBadOpcode. On error the state is unchanged (the connection is failing).
func (a *Assembler) Frame(h ws.Header) (msgOp ws.OpCode, final bool, err error) {
	switch h.OpCode {
	case ws.OpContinuation:
		if !a.active {
			return 0, false, errUnexpectedContinuation
		}
		if h.Fin {
			a.active = false
		}
		return a.op, h.Fin, nil
	case ws.OpText, ws.OpBinary:
		if a.active {
			return 0, false, errExpectedContinuation
		}
		a.op, a.rsv, a.active = h.OpCode, h.Rsv, !h.Fin
		return h.OpCode, h.Fin, nil
	case ws.OpClose, ws.OpPing, ws.OpPong:
		return h.OpCode, true, nil
	}
	return 0, false, errBadOpcode
}

// InProgress reports whether a fragmented message has started and not finished.
func (a *Assembler) InProgress() bool { return a.active }

// Op returns the opcode of the message in progress, or of the last data
// message if none is.
func (a *Assembler) Op() ws.OpCode { return a.op }

// Rsv returns the RSV bits of the first frame of the message in progress (or
// of the last data message): with permessage-deflate, Rsv()&RSV1 != 0 means the
// message is compressed. Continuation frames carry no RSV bits of their own.
func (a *Assembler) Rsv() byte { return a.rsv }

// Reset forgets any message in progress.
func (a *Assembler) Reset() { *a = Assembler{} }

// ValidText reports whether a whole text message is valid UTF-8; a text message
// that is not must fail the connection with ErrInvalidUTF8 (1007). Validate the
// reassembled message, not each fragment: a character may span fragments.
func ValidText(p []byte) bool { return utf8.Valid(p) }
