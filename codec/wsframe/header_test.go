package wsframe

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"
)

func TestParseHeaderWholeAndSplit(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeClient(t, tc.h)
			if len(b) != tc.n {
				t.Fatalf("gobwas encoded %d bytes, want %d", len(b), tc.n)
			}
			for i := 0; i < len(b); i++ {
				if h, n, err := ParseHeader(b[:i], 0); err != ErrNeedMore || n != 0 || h != (ws.Header{}) {
					t.Fatalf("prefix %d: got %+v, %d, %v; want ErrNeedMore", i, h, n, err)
				}
			}
			// Whole, and followed by payload bytes that must not be consumed.
			for _, buf := range [][]byte{b, append(b[:len(b):len(b)], "payload"...)} {
				h, n, err := ParseHeader(buf, 0)
				if err != nil || n != tc.n || h != tc.h {
					t.Fatalf("got %+v, %d, %v; want %+v, %d", h, n, err, tc.h, tc.n)
				}
			}
			// Cross-check with gobwas/ws's blocking reader.
			rh, err := ws.ReadHeader(bytes.NewReader(b))
			if err != nil || rh != tc.h {
				t.Fatalf("ws.ReadHeader = %+v, %v", rh, err)
			}
			// The limit is inclusive.
			if _, _, err := ParseHeader(b, tc.h.Length); err != nil {
				t.Fatalf("maxPayload = Length: %v", err)
			}
			if tc.h.Length > 1 { // Length-1 = 0 would mean no limit
				_, _, err := ParseHeader(b, tc.h.Length-1)
				if err != ErrTooBig && !tc.h.OpCode.IsControl() {
					t.Fatalf("maxPayload = Length-1: %v, want ErrTooBig", err)
				}
				if err != nil && tc.h.OpCode.IsControl() {
					t.Fatalf("control frames are exempt from maxPayload: %v", err)
				}
			}
		})
	}
}

func TestParseHeaderRealFrames(t *testing.T) {
	for _, f := range realFrames(t) {
		h, n, err := ParseHeader(f, 1e6)
		if err != nil {
			t.Fatalf("%x: %v", f, err)
		}
		if int64(len(f)-n) != h.Length {
			t.Fatalf("%x: header %d + length %d != %d", f, n, h.Length, len(f))
		}
	}
	f := realFrames(t)[0]
	h, n, _ := ParseHeader(f, 0)
	p := bytes.Clone(f[n:])
	Unmask(p, h.Mask)
	if string(p) != "Hello" || h.OpCode != ws.OpText || !h.Fin {
		t.Fatalf("RFC 6455 5.7 example: %+v %q", h, p)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseHeaderExt(tc.buf, tc.max, tc.rsv)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !errors.Is(err, tc.err) {
				t.Fatal("errors.Is failed")
			}
			code, ok := CloseCode(err)
			if !ok || code != tc.err.(ProtocolError).Code {
				t.Fatalf("CloseCode = %v, %v", code, ok)
			}
			// Split: ErrNeedMore until the bytes proving the fault arrive, then
			// the same fault for every longer prefix.
			seen := false
			for i := 0; i <= len(tc.buf); i++ {
				h, n, err := ParseHeaderExt(tc.buf[:i], tc.max, tc.rsv)
				if n != 0 || h != (ws.Header{}) {
					t.Fatalf("prefix %d: non-zero results %+v %d with %v", i, h, n, err)
				}
				switch {
				case err == tc.err:
					seen = true
				case err == ErrNeedMore && !seen:
				default:
					t.Fatalf("prefix %d: err = %v (fault seen: %v)", i, err, seen)
				}
			}
		})
	}
}

func TestParseHeaderReservedOpcodes(t *testing.T) {
	for op := ws.OpCode(0); op < 16; op++ {
		b := []byte{0x80 | byte(op), 0x80, 1, 2, 3, 4}
		_, _, err := ParseHeader(b, 0)
		if op.IsReserved() != (err == ErrBadOpcode) {
			t.Errorf("opcode %#x: %v", op, err)
		}
		if !op.IsReserved() && err != nil {
			t.Errorf("opcode %#x: %v", op, err)
		}
	}
}

func TestParseHeaderExtDeflate(t *testing.T) {
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary} {
		for _, fin := range []bool{true, false} {
			want := clientHeader(fin, op, 300, maskRFC)
			want.Rsv = RSV1
			b := encodeClient(t, want)
			h, n, err := ParseHeaderExt(b, 0, RSV1)
			if err != nil || n != 8 || h != want || !h.Rsv1() {
				t.Fatalf("got %+v %d %v", h, n, err)
			}
			if _, _, err := ParseHeader(b, 0); err != ErrReservedBits {
				t.Fatalf("without extension: %v", err)
			}
		}
	}
}

// Server frames checked against gobwas/ws's encoder and reader.
func TestAppendHeaderMatchesGobwas(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 1 << 20, 1 << 40} {
		for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary, ws.OpClose, ws.OpPing, ws.OpPong, ws.OpContinuation} {
			want := ws.Header{Fin: true, OpCode: op, Length: int64(n)}
			var wb bytes.Buffer
			if err := ws.WriteHeader(&wb, want); err != nil {
				t.Fatal(err)
			}
			got := AppendHeader([]byte("prefix"), op, n)
			if string(got[:6]) != "prefix" || !bytes.Equal(got[6:], wb.Bytes()) {
				t.Fatalf("op %v n %d: %x, gobwas %x", op, n, got[6:], wb.Bytes())
			}
			if HeaderLen(n) != len(got)-6 || HeaderLen(n) != ws.HeaderSize(want) {
				t.Fatalf("HeaderLen(%d) = %d, wrote %d", n, HeaderLen(n), len(got)-6)
			}
			h, err := ws.ReadHeader(bytes.NewReader(got[6:]))
			if err != nil || h != want {
				t.Fatalf("ws.ReadHeader = %+v, %v", h, err)
			}
			var put [MaxServerHeaderLen]byte
			if k := PutHeader(put[:], op, n); !bytes.Equal(put[:k], got[6:]) {
				t.Fatalf("PutHeader %x, AppendHeader %x", put[:k], got[6:])
			}
		}
	}
}

func TestAppendHeaderFlags(t *testing.T) {
	got := AppendHeaderFlags(nil, false, RSV1, ws.OpText, 200)
	h, err := ws.ReadHeader(bytes.NewReader(got))
	want := ws.Header{Fin: false, Rsv: RSV1, OpCode: ws.OpText, Length: 200}
	if err != nil || h != want {
		t.Fatalf("got %+v %v", h, err)
	}
}

func TestAppendHeaderPanics(t *testing.T) {
	mustPanic(t, "negative length", func() { AppendHeader(nil, ws.OpText, -1) })
	mustPanic(t, "PutHeader short dst", func() { PutHeader(make([]byte, 3, 10), ws.OpText, 200) })
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func TestAppendFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 65535, 65536, 100000} {
		payload := bytes.Repeat([]byte{'z'}, n)
		f := AppendFrame(nil, ws.OpBinary, payload)
		r := bytes.NewReader(f)
		h, err := ws.ReadHeader(r)
		if err != nil || h.Length != int64(n) || !h.Fin || h.Masked || h.OpCode != ws.OpBinary {
			t.Fatalf("n %d: %+v %v", n, h, err)
		}
		if r.Len() != n || !bytes.Equal(f[len(f)-n:], payload) {
			t.Fatalf("n %d: payload mismatch", n)
		}
	}
}

// A whole stream of client frames parsed the way the server does: header,
// wait for payload, unmask in place, consume. Fed whole and split at every offset.
func TestParseStreamSplit(t *testing.T) {
	var stream []byte
	var want []string
	for _, f := range realFrames(t) {
		stream = append(stream, f...)
		h, n, _ := ParseHeader(f, 0)
		p := bytes.Clone(f[n:])
		Unmask(p, h.Mask)
		want = append(want, string(p))
	}
	for cut := 0; cut <= len(stream); cut++ {
		var got []string
		var pending []byte // what gnet would keep in the inbound ring
		for _, chunk := range [][]byte{stream[:cut], stream[cut:]} {
			pending = append(pending, chunk...)
			for {
				h, n, err := ParseHeader(pending, 1e6)
				if err == ErrNeedMore {
					break
				}
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if int64(len(pending)-n) < h.Length {
					break
				}
				end := n + int(h.Length)
				p := pending[n:end]
				Unmask(p, h.Mask)
				got = append(got, string(p))
				pending = pending[end:]
			}
		}
		if len(pending) != 0 || len(got) != len(want) {
			t.Fatalf("cut %d: %d frames, %d bytes left", cut, len(got), len(pending))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("cut %d frame %d: %q want %q", cut, i, got[i], want[i])
			}
		}
		// Refill stream (unmasked in place above).
		stream = stream[:0]
		for _, f := range realFrames(t) {
			stream = append(stream, f...)
		}
	}
}

func TestProtocolErrorValues(t *testing.T) {
	all := []ProtocolError{ErrUnmasked, ErrReservedBits, ErrBadOpcode, ErrControlTooLong,
		ErrControlFragmented, ErrBadLength, ErrTooBig, ErrInvalidUTF8, ErrBadClosePayload,
		ErrBadCloseCode, ErrUnexpectedContinuation, ErrExpectedContinuation}
	for _, e := range all {
		if len(e.Reason) > maxCloseReason || !ValidCloseCode(e.Code) {
			t.Errorf("%v: reason too long or code %d not sendable", e, e.Code)
		}
		for _, o := range all {
			if (e == o) != (e.Reason == o.Reason) {
				t.Errorf("%v == %v", e, o)
			}
		}
	}
	if ErrTooBig.Code != 1009 || ErrInvalidUTF8.Code != 1007 || ErrUnmasked.Code != 1002 {
		t.Error("codes")
	}
	if ErrTooBig.Error() != "wsframe: message too big" {
		t.Error(ErrTooBig.Error())
	}
	if _, ok := CloseCode(ErrNeedMore); ok {
		t.Error("ErrNeedMore is not a protocol error")
	}
}
