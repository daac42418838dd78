// Package eio encodes and decodes Engine.IO v4 packets and polling payloads.
//
// A packet is a type digit ('0' open … '6' noop) followed by its data, as text. That text form
// travels alone in a WebSocket text frame; a binary message travels as the raw bytes of a
// WebSocket binary frame, without any type prefix (BinaryPacket wraps one). HTTP long-polling has
// no binary frames, so a polling payload carries a binary message as 'b' followed by standard,
// padded base64 of the bytes, and joins packets with the record separator 0x1e:
//
//	4hello\x1ebAQID\x1e2     message "hello", binary message {1,2,3}, ping
//
// Decoding reads a payload in place: NextPacket splits off one packet without copying, and
// ParsePollingPacket decodes a 'b' packet's base64 over the bytes it came in, so a Packet's Data
// aliases the caller's buffer and is valid only as long as that buffer is. Neither allocates.
// Encoding appends to a caller buffer (AppendPacket, AppendPollingPacket, AppendPayload,
// AppendOpen) and does not allocate when the buffer has room; PollingPacketLen sizes it first.
//
// The package is pure: bytes in, bytes out, no I/O, no clocks, no goroutines. Every function
// is safe for concurrent use on distinct buffers. Behaviour follows engine.io-parser 5.2
// (the parser of engine.io 6.6 and engine.io-client 6.6) except where a doc comment says
// otherwise; the differences make this package stricter, never more lenient.
package eio
