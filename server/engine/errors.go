package engine

import (
	"errors"
	"strconv"

	"github.com/riptide-io/riptide/internal/jsonstr"
)

// Sentinel errors returned by Session methods.
var (
	ErrClosed = errors.New("engine: session closed")
)

// ErrorCode is an Engine.IO HTTP error code, as the Node server sends it in
// {"code":N,"message":"..."} bodies. docs/protocol.md lists them with their statuses.
type ErrorCode int

// The reference's codes (engine.io Server.errors).
const (
	CodeUnknownTransport           ErrorCode = 0
	CodeUnknownSID                 ErrorCode = 1
	CodeBadHandshakeMethod         ErrorCode = 2
	CodeBadRequest                 ErrorCode = 3
	CodeForbidden                  ErrorCode = 4
	CodeUnsupportedProtocolVersion ErrorCode = 5
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// Message returns the reference's message for the code.
func (c ErrorCode) Message() string {
	if int(c) < len(codeMessages) {
		return codeMessages[c]
	}
	return "Bad request"
}

// Status is 403 for Forbidden and 400 for every other code, as in the reference.
func (c ErrorCode) Status() int {
	if c == CodeForbidden {
		return 403
	}
	return 400
}

// appendErrorJSON appends {"code":N,"message":"..."}.
func appendErrorJSON(dst []byte, c ErrorCode, msg string) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(c), 10)
	dst = append(dst, `,"message":`...)
	dst = jsonstr.AppendQuote(dst, msg)
	return append(dst, '}')
}

// CloseReason says why a session ended. It is a small enum, comparable with ==, so reasons
// cannot drift as strings do when they cross from the engine to the Socket.IO layer; String
// returns the reference's text.
type CloseReason uint8

// Reasons passed to Handler.OnClose.
const (
	ReasonTransportClose CloseReason = iota // the client closed the transport or sent a close packet
	ReasonTransportError                    // the transport broke (dropped poll, protocol violation, slow consumer)
	ReasonPingTimeout                       // no pong within pingTimeout
	ReasonParseError                        // an undecodable packet
	ReasonForcedClose                       // Session.Close
	ReasonServerShutdown                    // Server.Close: the whole server is going away
)

var reasonText = [...]string{
	ReasonTransportClose: "transport close",
	ReasonTransportError: "transport error",
	ReasonPingTimeout:    "ping timeout",
	ReasonParseError:     "parse error",
	ReasonForcedClose:    "forced close",
	ReasonServerShutdown: "server shutdown",
}

// String returns the reference's name of the reason ("transport close", "ping timeout", ...).
func (r CloseReason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "transport error"
}
