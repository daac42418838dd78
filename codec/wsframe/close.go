package wsframe

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// ValidCloseCode reports whether code may appear in a close frame (RFC 6455
// 7.4): 1000-1003, 1007-1014 (1012-1014 are IANA-registered: service restart,
// try again later, bad gateway) and 3000-4999. Codes below 1000, 1004 (reserved),
// 1005, 1006 and 1015 (never on the wire), 1016-2999 (unassigned) and 5000+ are
// not.
func ValidCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// maxCloseReason is what is left of a control frame's 125 bytes after the code.
const maxCloseReason = ws.MaxControlFramePayloadSize - 2

// AppendClose appends a whole server close frame with code and reason to dst.
// A reason longer than 123 bytes is cut at a UTF-8 character boundary so the
// payload stays within 125 bytes and valid (the client fails the connection
// with 1007 otherwise); reason is expected to be valid UTF-8. If code cannot be
// sent (!ValidCloseCode, e.g. 1005 "no status" echoed from ParseClosePayload),
// the frame has an empty payload and reason is dropped, as RFC 6455 5.5.1 allows.
// No allocations if dst has 127 bytes of spare capacity.
func AppendClose(dst []byte, code ws.StatusCode, reason string) []byte {
	if !ValidCloseCode(code) {
		return AppendHeader(dst, ws.OpClose, 0)
	}
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	dst = AppendHeader(dst, ws.OpClose, 2+len(reason))
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// ParseClosePayload validates the unmasked payload of a received close frame
// and returns the code to echo in the close reply. An empty payload is valid and
// yields ws.StatusNoStatusRcvd (1005), which AppendClose turns into an empty
// reply. Faults: 1 byte or more than 125 (ErrBadClosePayload), a code that
// !ValidCloseCode (ErrBadCloseCode), a reason that is not UTF-8
// (ErrInvalidUTF8, 1007). On a fault code is the ProtocolError's Code, so the
// caller can send AppendClose(dst, code, "") either way. p is not retained.
func ParseClosePayload(p []byte) (code ws.StatusCode, err error) {
	switch {
	case len(p) == 0:
		return ws.StatusNoStatusRcvd, nil
	case len(p) == 1 || len(p) > ws.MaxControlFramePayloadSize:
		return ErrBadClosePayload.Code, errBadClosePayload
	}
	code = ws.StatusCode(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return ErrBadCloseCode.Code, errBadCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return ErrInvalidUTF8.Code, errInvalidUTF8
	}
	return code, nil
}

// CloseReason returns the reason part of a close payload (after the 2-byte
// code), or nil. The result aliases p.
func CloseReason(p []byte) []byte {
	if len(p) <= 2 {
		return nil
	}
	return p[2:]
}
