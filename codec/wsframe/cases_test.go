package wsframe

import (
	"bytes"
	"math"
	"testing"

	"github.com/gobwas/ws"
)

// Cases shared by tests, fuzz seeds and benchmarks.

// maskRFC is the mask of the RFC 6455 5.7 examples.
var maskRFC = [4]byte{0x37, 0xfa, 0x21, 0x3d}

type headerCase struct {
	name string
	h    ws.Header // as a client sends it (Masked)
	n    int       // encoded header length
}

func clientHeader(fin bool, op ws.OpCode, length int64, mask [4]byte) ws.Header {
	return ws.Header{Fin: fin, OpCode: op, Masked: true, Mask: mask, Length: length}
}

var headerCases = []headerCase{
	{"text/7bit/0", clientHeader(true, ws.OpText, 0, maskRFC), 6},
	{"text/7bit/1", clientHeader(true, ws.OpText, 1, [4]byte{0, 0, 0, 0}), 6},
	{"text/7bit/125", clientHeader(true, ws.OpText, 125, [4]byte{0xff, 0xff, 0xff, 0xff}), 6},
	{"binary/16bit/126", clientHeader(true, ws.OpBinary, 126, maskRFC), 8},
	{"binary/16bit/127", clientHeader(true, ws.OpBinary, 127, maskRFC), 8},
	{"text/16bit/1000", clientHeader(false, ws.OpText, 1000, [4]byte{1, 2, 3, 4}), 8},
	{"cont/16bit/65535", clientHeader(true, ws.OpContinuation, 65535, [4]byte{9, 8, 7, 6}), 8},
	{"binary/64bit/65536", clientHeader(true, ws.OpBinary, 65536, maskRFC), 14},
	{"binary/64bit/1<<32", clientHeader(false, ws.OpBinary, 1<<32, maskRFC), 14},
	{"binary/64bit/max", clientHeader(true, ws.OpBinary, math.MaxInt64, [4]byte{0x80, 0, 0, 1}), 14},
	{"ping/0", clientHeader(true, ws.OpPing, 0, maskRFC), 6},
	{"pong/125", clientHeader(true, ws.OpPong, 125, maskRFC), 6},
	{"close/2", clientHeader(true, ws.OpClose, 2, maskRFC), 6},
	{"cont/nonfinal", clientHeader(false, ws.OpContinuation, 3, maskRFC), 6},
}

// encodeClient encodes h with gobwas/ws's own writer, as a client would.
func encodeClient(tb testing.TB, h ws.Header) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := ws.WriteHeader(&b, h); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// clientFrame returns a whole masked client frame carrying payload.
func clientFrame(tb testing.TB, fin bool, op ws.OpCode, mask [4]byte, payload string) []byte {
	tb.Helper()
	b := encodeClient(tb, clientHeader(fin, op, int64(len(payload)), mask))
	p := []byte(payload)
	ws.Cipher(p, mask, 0)
	return append(b, p...)
}

// realFrames are frames as Engine.IO / Socket.IO v4 clients send them over
// WebSocket (browser and engine.io-client masks are random; these are fixed).
func realFrames(tb testing.TB) [][]byte {
	return [][]byte{
		// RFC 6455 5.7: a masked "Hello".
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		clientFrame(tb, true, ws.OpText, [4]byte{0x9c, 0x11, 0x5e, 0xa2}, "2probe"),
		clientFrame(tb, true, ws.OpText, [4]byte{0x01, 0xd3, 0x7a, 0x44}, "5"),
		clientFrame(tb, true, ws.OpText, [4]byte{0xe0, 0x3b, 0x02, 0x9f}, "3"),
		clientFrame(tb, true, ws.OpText, [4]byte{0x5a, 0x6b, 0x7c, 0x8d}, "40"),
		clientFrame(tb, true, ws.OpText, [4]byte{0x12, 0x34, 0x56, 0x78}, `42["chat message","hello world"]`),
		clientFrame(tb, true, ws.OpText, [4]byte{0x12, 0x34, 0x56, 0x78}, `451-["upload",{"_placeholder":true,"num":0}]`),
		clientFrame(tb, true, ws.OpBinary, [4]byte{0xaa, 0xbb, 0xcc, 0xdd}, "\x00\x01\x02\x03"),
		clientFrame(tb, true, ws.OpText, [4]byte{0x12, 0x34, 0x56, 0x78}, `42["big",`+string(bytes.Repeat([]byte("x"), 300))+`]`),
		clientFrame(tb, true, ws.OpClose, [4]byte{0x0f, 0x1e, 0x2d, 0x3c}, "\x03\xe8"),
		clientFrame(tb, true, ws.OpPong, [4]byte{0x0f, 0x1e, 0x2d, 0x3c}, ""),
	}
}

type errorCase struct {
	name string
	buf  []byte
	max  int64
	rsv  byte // ParseHeaderExt's allowed bits
	err  error
}

var errorCases = []errorCase{
	{"unmasked text", []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}, 0, 0, ErrUnmasked},
	{"unmasked 16bit", []byte{0x82, 0x7e, 0x01, 0x00}, 0, 0, ErrUnmasked},
	{"rsv1 text", []byte{0xc1, 0x80, 1, 2, 3, 4}, 0, 0, ErrReservedBits},
	{"rsv2 text", []byte{0xa1, 0x80, 1, 2, 3, 4}, 0, 0, ErrReservedBits},
	{"rsv3 binary", []byte{0x92, 0x80, 1, 2, 3, 4}, 0, 0, ErrReservedBits},
	{"rsv2 text with deflate", []byte{0xa1, 0x80, 1, 2, 3, 4}, 0, RSV1, ErrReservedBits},
	{"rsv1 continuation with deflate", []byte{0xc0, 0x80, 1, 2, 3, 4}, 0, RSV1, ErrReservedBits},
	{"rsv1 ping with deflate", []byte{0xc9, 0x80, 1, 2, 3, 4}, 0, RSV1, ErrReservedBits},
	{"rsv1 close", []byte{0xc8, 0x80, 1, 2, 3, 4}, 0, 0, ErrReservedBits},
	{"opcode 3", []byte{0x83, 0x80, 1, 2, 3, 4}, 0, 0, ErrBadOpcode},
	{"opcode 7", []byte{0x87, 0x80, 1, 2, 3, 4}, 0, 0, ErrBadOpcode},
	{"opcode 0xb", []byte{0x8b, 0x80, 1, 2, 3, 4}, 0, 0, ErrBadOpcode},
	{"opcode 0xf", []byte{0x0f, 0x80, 1, 2, 3, 4}, 0, 0, ErrBadOpcode},
	{"ping not final", []byte{0x09, 0x80, 1, 2, 3, 4}, 0, 0, ErrControlFragmented},
	{"close not final", []byte{0x08, 0x82, 1, 2, 3, 4, 0, 0}, 0, 0, ErrControlFragmented},
	{"ping 126", []byte{0x89, 0xfe, 0x00, 0x7e, 1, 2, 3, 4}, 0, 0, ErrControlTooLong},
	{"close 127", []byte{0x88, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x7e, 1, 2, 3, 4}, 0, 0, ErrControlTooLong},
	{"pong 16bit 5", []byte{0x8a, 0xfe, 0x00, 0x05, 1, 2, 3, 4}, 0, 0, ErrControlTooLong},
	{"64bit msb", []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 0, 0, ErrBadLength},
	{"64bit all ones", []byte{0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 100, 0, ErrBadLength},
	{"too big 7bit", []byte{0x81, 0x80 | 101, 1, 2, 3, 4}, 100, 0, ErrTooBig},
	{"too big 16bit", []byte{0x81, 0xfe, 0x03, 0xe8, 1, 2, 3, 4}, 999, 0, ErrTooBig},
	{"too big 64bit", []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x41, 1, 2, 3, 4}, 1e6, 0, ErrTooBig},
	{"close length 1", []byte{0x88, 0x81, 1, 2, 3, 4, 5}, 0, 0, ErrBadClosePayload},
}

type closeCase struct {
	name string
	p    string
	code ws.StatusCode
	err  error
}

var closeCases = []closeCase{
	{"empty", "", ws.StatusNoStatusRcvd, nil},
	{"one byte", "\x03", ws.StatusProtocolError, ErrBadClosePayload},
	{"1000", "\x03\xe8", 1000, nil},
	{"1000 reason", "\x03\xe8bye", 1000, nil},
	{"1001", "\x03\xe9", 1001, nil},
	{"1002", "\x03\xea", 1002, nil},
	{"1003", "\x03\xeb", 1003, nil},
	{"1004 reserved", "\x03\xec", ws.StatusProtocolError, ErrBadCloseCode},
	{"1005 no status", "\x03\xed", ws.StatusProtocolError, ErrBadCloseCode},
	{"1006 abnormal", "\x03\xee", ws.StatusProtocolError, ErrBadCloseCode},
	{"1007", "\x03\xef", 1007, nil},
	{"1011", "\x03\xf3", 1011, nil},
	{"1012", "\x03\xf4", 1012, nil},
	{"1014", "\x03\xf6", 1014, nil},
	{"1015 tls", "\x03\xf7", ws.StatusProtocolError, ErrBadCloseCode},
	{"1016", "\x03\xf8", ws.StatusProtocolError, ErrBadCloseCode},
	{"2999", "\x0b\xb7", ws.StatusProtocolError, ErrBadCloseCode},
	{"3000", "\x0b\xb8", 3000, nil},
	{"4999", "\x13\x87", 4999, nil},
	{"5000", "\x13\x88", ws.StatusProtocolError, ErrBadCloseCode},
	{"0", "\x00\x00", ws.StatusProtocolError, ErrBadCloseCode},
	{"999", "\x03\xe7", ws.StatusProtocolError, ErrBadCloseCode},
	{"65535", "\xff\xff", ws.StatusProtocolError, ErrBadCloseCode},
	{"utf8 reason", "\x03\xe8κόσμε", 1000, nil},
	// Autobahn 7.5.1: a surrogate half (ED A0 80) in the reason.
	{"bad utf8 reason", "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", ws.StatusInvalidFramePayloadData, ErrInvalidUTF8},
	{"truncated utf8 reason", "\x03\xe8\xce", ws.StatusInvalidFramePayloadData, ErrInvalidUTF8},
	{"bad code before bad utf8", "\x03\xec\xff", ws.StatusProtocolError, ErrBadCloseCode},
	{"125 bytes", "\x03\xe8" + string(bytes.Repeat([]byte("a"), 123)), 1000, nil},
	{"126 bytes", "\x03\xe8" + string(bytes.Repeat([]byte("a"), 124)), ws.StatusProtocolError, ErrBadClosePayload},
}
