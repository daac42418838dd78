package wsframe

import (
	"errors"

	"github.com/gobwas/ws"
)

// ErrNeedMore reports that buf does not yet hold a whole frame header.
// It is not a fault: consume nothing and parse again when more bytes arrive.
var ErrNeedMore = errors.New("wsframe: need more bytes")

// ProtocolError is a fault that must fail the WebSocket connection. Code is the
// close code to send (RFC 6455 7.4.1) and Reason a short text that fits in a
// close frame. Values are comparable with == and errors.Is.
type ProtocolError struct {
	Code   ws.StatusCode
	Reason string
}

// Error implements error.
func (e ProtocolError) Error() string { return "wsframe: " + e.Reason }

// Protocol faults returned by this package. Treat them as constants: the
// functions return pre-boxed copies (see below), so changing these variables
// does not change what is returned.
var (
	ErrUnmasked          = ProtocolError{ws.StatusProtocolError, "client frame not masked"}
	ErrReservedBits      = ProtocolError{ws.StatusProtocolError, "reserved bits set"}
	ErrBadOpcode         = ProtocolError{ws.StatusProtocolError, "reserved opcode"}
	ErrControlTooLong    = ProtocolError{ws.StatusProtocolError, "control frame longer than 125 bytes"}
	ErrControlFragmented = ProtocolError{ws.StatusProtocolError, "fragmented control frame"}
	ErrBadLength         = ProtocolError{ws.StatusProtocolError, "payload length has most significant bit set"}
	ErrTooBig            = ProtocolError{ws.StatusMessageTooBig, "message too big"}
	ErrInvalidUTF8       = ProtocolError{ws.StatusInvalidFramePayloadData, "invalid utf-8"}
	ErrBadClosePayload   = ProtocolError{ws.StatusProtocolError, "malformed close payload"}
	ErrBadCloseCode      = ProtocolError{ws.StatusProtocolError, "invalid close code"}
	// ErrUnexpectedContinuation: a continuation frame with no message in progress.
	ErrUnexpectedContinuation = ProtocolError{ws.StatusProtocolError, "continuation without a message in progress"}
	// ErrExpectedContinuation: a new text/binary frame while a fragmented message is in progress.
	ErrExpectedContinuation = ProtocolError{ws.StatusProtocolError, "new message before the last one finished"}
)

// Converting a struct with a string to error allocates (runtime.convT); these
// are boxed once so that error paths are allocation-free too: a flood of bad
// frames must not become a flood of garbage.
var (
	errUnmasked               error = ErrUnmasked
	errReservedBits           error = ErrReservedBits
	errBadOpcode              error = ErrBadOpcode
	errControlTooLong         error = ErrControlTooLong
	errControlFragmented      error = ErrControlFragmented
	errBadLength              error = ErrBadLength
	errTooBig                 error = ErrTooBig
	errInvalidUTF8            error = ErrInvalidUTF8
	errBadClosePayload        error = ErrBadClosePayload
	errBadCloseCode           error = ErrBadCloseCode
	errUnexpectedContinuation error = ErrUnexpectedContinuation
	errExpectedContinuation   error = ErrExpectedContinuation
)

// CloseCode returns the close code err asks for and true if err is a
// ProtocolError; otherwise 0 and false. It does not unwrap and does not allocate.
func CloseCode(err error) (ws.StatusCode, bool) {
	if pe, ok := err.(ProtocolError); ok {
		return pe.Code, true
	}
	return 0, false
}
