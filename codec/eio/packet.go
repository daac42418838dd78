package eio

import (
	"errors"
	"strconv"
)

// Type is an Engine.IO packet type. Its wire form is the ASCII digit '0'+Type.
type Type uint8

// Engine.IO v4 packet types, in wire order.
const (
	Open    Type = iota // server → client handshake, data is JSON (see Handshake)
	Close               // either side asks to close the session
	Ping                // server → client heartbeat; "2probe" from the client during upgrade
	Pong                // client → server heartbeat answer; "3probe" from the server during upgrade
	Message             // application data, text or binary
	Upgrade             // client → server, completes the WebSocket upgrade
	Noop                // server → client, releases a pending poll during upgrade
)

// numTypes bounds the valid types: Type(numTypes) and above are unknown.
const numTypes = Noop + 1

var typeNames = [numTypes]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the name engine.io-parser uses for t ("open", "message", …), or "Type(n)".
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Errors returned by the decoders and by Packet.Validate. engine.io-parser turns all of them into
// its single "parser error" packet, on which the Node server closes the session.
var (
	ErrEmptyPacket      = errors.New("eio: empty packet")
	ErrUnknownType      = errors.New("eio: unknown packet type")
	ErrBadBase64        = errors.New("eio: malformed base64 in binary packet")
	ErrBinaryNotMessage = errors.New("eio: binary packet must be a message")
	ErrBadOpen          = errors.New("eio: malformed open packet")
)

// Packet is one Engine.IO packet.
//
// Binary marks a binary message (Type is then Message): Data holds the bytes themselves, not
// base64. For a text packet Data is the text after the type digit, possibly empty.
// A decoded Packet's Data aliases the buffer it was decoded from.
type Packet struct {
	Type   Type
	Binary bool
	Data   []byte
}

// Validate reports whether p can be encoded faithfully: ErrUnknownType for a type above Noop,
// ErrBinaryNotMessage for a binary packet of another type than Message (the wire forms of a
// binary packet carry no type). Decoded packets are always valid.
func (p Packet) Validate() error {
	if p.Type >= numTypes {
		return ErrUnknownType
	}
	if p.Binary && p.Type != Message {
		return ErrBinaryNotMessage
	}
	return nil
}

// ParsePacket decodes a packet in text form: a WebSocket text frame, or a polling packet that
// does not start with 'b'. Data aliases b; b is not modified. It does not allocate.
//
// A text frame starting with 'b' gets ErrUnknownType here. The Node server would base64-decode
// it as a binary message even on WebSocket (engine.io-parser's decodePacket does not know the
// transport); callers wanting that leniency call ParsePollingPacket on text frames instead.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	t := Type(b[0] - '0') // bytes below '0' wrap to large values and fail the check below
	if t >= numTypes {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: t, Data: b[1:]}, nil
}

// BinaryPacket wraps the payload of a WebSocket binary frame: a binary Message whose Data is b
// itself (aliased, not copied).
func BinaryPacket(b []byte) Packet {
	return Packet{Type: Message, Binary: true, Data: b}
}

// AppendPacket appends p's text form, the type digit followed by Data, to dst and returns the
// extended slice; it does not allocate when dst has room for 1+len(p.Data) more bytes.
// This is the payload of a WebSocket text frame. A binary packet has no text form: the WebSocket
// writer sends its Data raw in a binary frame, and the polling writer uses AppendPollingPacket.
// Given one anyway, AppendPacket ignores Binary and writes the digit and the raw bytes.
func AppendPacket(dst []byte, p Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}
