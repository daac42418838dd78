package eio

import (
	"bytes"
	"encoding/base64"
)

// Separator joins the packets of a polling payload (ASCII record separator, as
// engine.io-parser's encodePayload writes it).
const Separator = 0x1e

// binaryPrefix starts a polling packet carrying a base64-encoded binary message.
const binaryPrefix = 'b'

// ParsePollingPacket decodes one packet of a polling payload (see NextPacket). A text packet is
// decoded as by ParsePacket. A packet "b<base64>" is a binary Message: its base64 is decoded in
// place, so b is overwritten and Data aliases b[1:]. On error the contents of b are unspecified.
// "b" alone is an empty binary message. It does not allocate.
//
// The base64 must be standard (RFC 4648 §4, alphabet A-Z a-z 0-9 + /). Padding is optional, as
// Node's Buffer.from(s, "base64") accepts both, though every known client pads (Node's
// Buffer.toString("base64"), the browser's FileReader.readAsDataURL). Unlike Buffer.from, which
// silently skips what it does not understand, this decoder rejects with ErrBadBase64 any
// character outside the alphabet (whitespace and the URL-safe '-' and '_' included), misplaced
// or excess padding, a dangling single character, and non-zero bits after the last byte.
func ParsePollingPacket(b []byte) (Packet, error) {
	if len(b) == 0 || b[0] != binaryPrefix {
		return ParsePacket(b)
	}
	n, err := decodeBase64InPlace(b[1:])
	if err != nil {
		return Packet{}, err
	}
	return Packet{Type: Message, Binary: true, Data: b[1 : 1+n]}, nil
}

// NextPacket splits the first packet off a polling payload: pkt is payload up to the first
// Separator (all of it when there is none) and rest what follows. ok is false only when payload is
// empty. pkt and rest alias payload. Typical use:
//
//	for pkt, rest, ok := eio.NextPacket(body); ok; pkt, rest, ok = eio.NextPacket(rest) {
//		p, err := eio.ParsePollingPacket(pkt) // ErrEmptyPacket for an empty pkt
//		…
//	}
//
// pkt is empty for a leading, doubled or trailing separator, and ParsePollingPacket rejects it:
// engine.io-parser splits the payload with String.split, so it sees an empty packet there and
// answers "parser error" after delivering the packets before it. To make the trailing case
// visible, a separator that ends the payload is left in rest, which then yields one last empty
// pkt. Up to the first empty packet the sequence is exactly that of split.
//
// NextPacket yields nothing for an empty payload, where engine.io-parser sees one empty packet
// (a parse error): a caller matching Node rejects an empty POST body itself.
func NextPacket(payload []byte) (pkt, rest []byte, ok bool) {
	if len(payload) == 0 {
		return nil, nil, false
	}
	i := bytes.IndexByte(payload, Separator)
	switch {
	case i < 0:
		return payload, nil, true
	case i > 0 && i == len(payload)-1:
		return payload[:i], payload[i:], true
	default:
		return payload[:i], payload[i+1:], true
	}
}

// AppendPollingPacket appends p's polling form to dst and returns the extended slice: 'b' and
// the padded standard base64 of Data for a binary packet (whatever its Type, see Validate),
// the text form of AppendPacket otherwise. It does not allocate when dst has room for
// PollingPacketLen(p) more bytes.
func AppendPollingPacket(dst []byte, p Packet) []byte {
	if !p.Binary {
		return AppendPacket(dst, p)
	}
	dst = append(dst, binaryPrefix)
	return base64.StdEncoding.AppendEncode(dst, p.Data)
}

// PollingPacketLen returns the number of bytes AppendPollingPacket appends for p, without
// encoding it. A binary packet grows by a third (the size limit counts these bytes).
func PollingPacketLen(p Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// AppendPayload appends the polling payload of ps (their polling forms joined by Separator, the
// body of a polling GET response) to dst and returns the extended slice. It does not allocate
// when dst has room for PayloadLen(ps) more bytes. An empty ps appends nothing.
func AppendPayload(dst []byte, ps []Packet) []byte {
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendPollingPacket(dst, p)
	}
	return dst
}

// PayloadLen returns the number of bytes AppendPayload appends for ps, without encoding them.
func PayloadLen(ps []Packet) int {
	n := 0
	for i, p := range ps {
		if i > 0 {
			n++
		}
		n += PollingPacketLen(p)
	}
	return n
}
