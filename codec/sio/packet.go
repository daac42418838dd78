package sio

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// Type is a Socket.IO packet type. Its wire form is the ASCII digit '0'+Type.
type Type uint8

// Socket.IO v5 packet types, in wire order.
const (
	Connect      Type = iota // client: join a namespace (payload: auth object); server: accepted ({"sid":...})
	Disconnect               // leave a namespace; no payload
	Event                    // [name, args...], optional ack id
	Ack                      // [args...], the answer to an Event's ack id
	ConnectError             // server: namespace refused ({"message":...,"data":...})
	BinaryEvent              // Event whose args hold attachment placeholders
	BinaryAck                // Ack whose args hold attachment placeholders
)

const numTypes = BinaryAck + 1

var typeNames = [numTypes]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the name socket.io-parser uses for t ("EVENT", …), or "Type(n)".
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// IsBinary reports whether packets of type t carry an attachment count and are followed by that
// many binary messages.
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// MaxAttachments is the attachment count Decode accepts at most: socket.io-parser's default
// maxAttachments, which the socket.io server does not change. DecodeLimit takes another bound.
const MaxAttachments = 10

// Errors returned by Decode and the JSON helpers. The Node server closes the connection on any
// packet socket.io-parser rejects (PROTOCOL-NOTES 4); callers do the same on any of these.
var (
	ErrUnknownType        = errors.New("sio: unknown packet type")
	ErrBadAttachments     = errors.New("sio: malformed attachment count")
	ErrTooManyAttachments = errors.New("sio: too many attachments")
	ErrBadNamespace       = errors.New("sio: malformed namespace")
	ErrBadID              = errors.New("sio: malformed ack id")
	ErrInvalidJSON        = errors.New("sio: invalid JSON")
	ErrInvalidPayload     = errors.New("sio: invalid payload for packet type")
	ErrBadPlaceholder     = errors.New("sio: bad attachment placeholder")
	ErrTooDeep            = errors.New("sio: value nested too deeply")
)

// rootNamespace is what Decode puts in Packet.Namespace when the wire has none. It is shared:
// never write through a decoded Namespace.
var rootNamespace = []byte{'/'}

// Packet is one Socket.IO packet, the data of one Engine.IO text message.
//
// A decoded Packet aliases the decoded buffer (Namespace, Data) and is valid as long as that
// buffer is; Namespace may also be a shared static "/" and must not be modified.
type Packet struct {
	Type        Type
	Namespace   []byte // "/" when absent on the wire; empty is encoded as "/" too
	ID          int64  // ack id; -1 when absent
	Attachments int    // number of binary messages that follow; binary types only
	Data        []byte // the JSON payload without surrounding whitespace; nil when absent
}

// Decode parses one packet: the data of an Engine.IO text message. See DecodeLimit; Decode
// allows MaxAttachments attachments.
func Decode(b []byte, p *Packet) error {
	return DecodeLimit(b, p, MaxAttachments)
}

// DecodeLimit parses one packet into p, allowing at most maxAttachments attachments. p's slices
// alias b. It does not allocate. On error p holds what was parsed so far and must not be used.
//
// It accepts what socket.io-parser 4.2's Decoder accepts, with these differences, all of them
// rejections of packets no Socket.IO client sends:
//   - the type must be a digit 0-6 (Node reads "" and " " as CONNECT);
//   - attachment counts and ack ids are plain decimal digits (Node takes anything Number()
//     parses, such as "0x1" or " "), and an id must fit an int64 (Node rounds it to a double);
//   - the namespace must be valid UTF-8;
//   - whitespace before the payload is JSON whitespace (Node reads a space or tab there as an
//     ack id 0, since Number(" ") is 0); Data is trimmed of it;
//   - EVENT, ACK, CONNECT_ERROR and their binary forms need a payload (Node lets "2" through as
//     an EVENT without data; its isPacketValid rejects it);
//   - BINARY_EVENT and BINARY_ACK placeholders are checked against the attachment count here
//     (see CheckPlaceholders) rather than after the attachments arrived.
//
// The payload must be valid JSON (Valid) of the shape socket.io-parser's isPayloadValid wants:
// CONNECT an object or nothing, DISCONNECT nothing, CONNECT_ERROR a string or an object,
// EVENT and BINARY_EVENT a non-empty array whose first element is a number or a string other
// than the reserved event names ("connect", "connect_error", "disconnect", "disconnecting",
// "newListener", "removeListener"), ACK and BINARY_ACK an array.
func DecodeLimit(b []byte, p *Packet, maxAttachments int) error {
	*p = Packet{Namespace: rootNamespace, ID: -1}
	if len(b) == 0 || b[0]-'0' >= byte(numTypes) {
		return ErrUnknownType
	}
	p.Type = Type(b[0] - '0')
	i := 1

	if p.Type.IsBinary() {
		start, n := i, 0
		for i < len(b) && isDigit(b[i]) {
			if n <= maxAttachments { // saturate: only "above the limit" matters
				n = n*10 + int(b[i]-'0')
			}
			i++
		}
		if i == start || i == len(b) || b[i] != '-' || n < 1 {
			return ErrBadAttachments
		}
		if n > maxAttachments {
			return ErrTooManyAttachments
		}
		p.Attachments = n
		i++
	}

	// A namespace runs from '/' to ',' or to the end: clients may omit the comma when nothing
	// follows ("0/admin"), and Node takes everything before the first ',' ("2/a[1]" is
	// namespace "/a[1]" without payload).
	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.Namespace = b[start:i:i] // capped: an append by the caller must not overwrite b
		if i < len(b) {
			i++
		}
		if !utf8.Valid(p.Namespace) {
			return ErrBadNamespace
		}
	}

	if i < len(b) && isDigit(b[i]) {
		var id int64
		for ; i < len(b) && isDigit(b[i]); i++ {
			d := int64(b[i] - '0')
			if id > (math.MaxInt64-d)/10 {
				return ErrBadID
			}
			id = id*10 + d
		}
		// After an id comes the payload or nothing: "21a[...]" is a bad id, not an id 1 and a
		// bad payload.
		if i < len(b) && !isWS[b[i]] && b[i] != '[' && b[i] != '{' && b[i] != '"' {
			return ErrBadID
		}
		p.ID = id
	}

	if i < len(b) {
		p.Data = trimWS(b[i:])
		p.Data = p.Data[:len(p.Data):len(p.Data)]
		if len(p.Data) == 0 || !Valid(p.Data) {
			return ErrInvalidJSON
		}
	}
	return validPayload(p)
}

var reservedEvents = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// isReserved reports whether the string literal name is one of reservedEvents.
func isReserved(name []byte) bool {
	if inner := name[1 : len(name)-1]; plainASCII(inner) {
		switch string(inner) {
		case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
			return true
		}
		return false
	}
	for _, r := range reservedEvents {
		if strEqual(name, r) {
			return true
		}
	}
	return false
}

// validPayload is socket.io-parser's isPayloadValid on JSON already known to be valid.
func validPayload(p *Packet) error {
	d := p.Data
	switch p.Type {
	case Connect:
		if d == nil || d[0] == '{' {
			return nil
		}
	case Disconnect:
		if d == nil {
			return nil
		}
	case ConnectError:
		if d != nil && (d[0] == '"' || d[0] == '{') {
			return nil
		}
	case Event, BinaryEvent:
		if d == nil || d[0] != '[' {
			return ErrInvalidPayload
		}
		name, _, err := EventName(d)
		if err != nil {
			return err
		}
		if name[0] == '"' && isReserved(name) {
			return ErrInvalidPayload
		}
		if p.Type == BinaryEvent {
			_, err := resolve(nil, d, nil, p.Attachments, check, 0)
			return err
		}
		return nil
	case Ack, BinaryAck:
		if d == nil || d[0] != '[' {
			return ErrInvalidPayload
		}
		if p.Type == BinaryAck {
			_, err := resolve(nil, d, nil, p.Attachments, check, 0)
			return err
		}
		return nil
	}
	return ErrInvalidPayload
}

// AppendPacket appends p's wire form to dst, as socket.io-parser's encodeAsString writes it:
// type digit, for binary types the attachment count and '-', the namespace followed by ','
// unless it is "/" (or empty), the ack id when ID >= 0, then Data as is. Data must already be
// valid JSON with placeholders in place for binary types; AppendPacket does not check it.
// It does not allocate when dst has room.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type.IsBinary() {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if len(p.Namespace) > 0 && !(len(p.Namespace) == 1 && p.Namespace[0] == '/') {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.ID >= 0 {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}
