package wsframe

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func FuzzParseHeader(f *testing.F) {
	for _, tc := range headerCases {
		f.Add(encodeClient(f, tc.h), int64(0), byte(0))
	}
	for _, fr := range realFrames(f) {
		f.Add(fr, int64(1e6), byte(0))
	}
	for _, tc := range errorCases {
		f.Add(tc.buf, tc.max, tc.rsv)
	}
	deflated := clientHeader(true, ws.OpText, 70000, maskRFC)
	deflated.Rsv = RSV1
	f.Add(encodeClient(f, deflated), int64(1e6), RSV1)
	f.Add([]byte{0x81, 0xfe, 0x00, 0x05, 1, 2, 3, 4}, int64(0), byte(0)) // non-minimal length

	f.Fuzz(func(t *testing.T, buf []byte, maxPayload int64, rsv byte) {
		rsv &= 7
		h, n, err := ParseHeaderExt(buf, maxPayload, rsv)

		// Incremental: a prefix either needs more or gives the same answer.
		for i := 0; i < len(buf) && i <= MaxClientHeaderLen; i++ {
			ph, pn, perr := ParseHeaderExt(buf[:i], maxPayload, rsv)
			if perr != ErrNeedMore && (perr != err || ph != h || pn != n) {
				t.Fatalf("prefix %d: %+v %d %v, whole: %+v %d %v", i, ph, pn, perr, h, n, err)
			}
		}

		rh, rerr := ws.ReadHeader(bytes.NewReader(buf))
		switch {
		case err == nil:
			if n < MinClientHeaderLen || n > MaxClientHeaderLen || n > len(buf) || !h.Masked ||
				h.Length < 0 || (maxPayload > 0 && h.Length > maxPayload && !h.OpCode.IsControl()) {
				t.Fatalf("bad result %+v n=%d", h, n)
			}
			if rerr != nil || rh != h {
				t.Fatalf("ws.ReadHeader = %+v, %v; ours %+v", rh, rerr, h)
			}
			state := ws.StateServerSide
			if h.OpCode == ws.OpContinuation {
				state = state.Set(ws.StateFragmented)
			}
			if rsv != 0 {
				state = state.Set(ws.StateExtended)
			}
			if cerr := ws.CheckHeader(h, state); cerr != nil {
				t.Fatalf("ws.CheckHeader(%+v) = %v", h, cerr)
			}
			// Re-encoded by gobwas/ws, it parses back equal.
			var b bytes.Buffer
			if werr := ws.WriteHeader(&b, h); werr != nil {
				t.Fatal(werr)
			}
			h2, n2, err2 := ParseHeaderExt(b.Bytes(), maxPayload, rsv)
			if err2 != nil || h2 != h || n2 != b.Len() || n2 > n {
				t.Fatalf("re-encoded %x: %+v %d %v; want %+v", b.Bytes(), h2, n2, err2, h)
			}
		case err == ErrNeedMore:
			if n != 0 || h != (ws.Header{}) || len(buf) >= MaxClientHeaderLen {
				t.Fatalf("ErrNeedMore with %d bytes, %+v %d", len(buf), h, n)
			}
			if rerr == nil {
				t.Fatalf("ws.ReadHeader read a whole header %+v from %x", rh, buf)
			}
		default:
			var pe ProtocolError
			if !errors.As(err, &pe) || n != 0 || h != (ws.Header{}) {
				t.Fatalf("unexpected error %v", err)
			}
			// Header faults gobwas/ws's checker also sees (RSV, opcode, control
			// frame rules, mask), whenever its reader got a whole header.
			// A control frame's 16/64-bit length encoding is refused even for
			// lengths <= 125 (as Node's ws does); gobwas/ws only checks the value.
			// A close frame of length 1 is a payload fault gobwas/ws leaves to later.
			nonMinimalControl := pe == ErrControlTooLong && rh.Length <= ws.MaxControlFramePayloadSize
			if rerr == nil && rsv == 0 && pe != ErrTooBig && pe != ErrBadLength && pe != ErrBadClosePayload && !nonMinimalControl {
				if ws.CheckHeader(rh, ws.StateServerSide|ws.StateFragmented) == nil &&
					ws.CheckHeader(rh, ws.StateServerSide) == nil {
					t.Fatalf("%v but ws.CheckHeader accepts %+v", err, rh)
				}
			}
		}
	})
}

func FuzzParseClosePayload(f *testing.F) {
	for _, tc := range closeCases {
		f.Add([]byte(tc.p))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, err := ParseClosePayload(p)
		if err != nil {
			c, ok := CloseCode(err)
			if !ok || c != code || err == ErrNeedMore {
				t.Fatalf("err %v code %d", err, code)
			}
			return
		}
		if len(p) == 0 {
			if code != ws.StatusNoStatusRcvd {
				t.Fatalf("empty: %d", code)
			}
			return
		}
		reason := CloseReason(p)
		if len(p) < 2 || len(p) > 125 || !ValidCloseCode(code) || !utf8.Valid(reason) {
			t.Fatalf("accepted %x", p)
		}
		// Echoed with AppendClose, the payload comes back byte for byte.
		fr := AppendClose(nil, code, string(reason))
		if !bytes.Equal(fr[2:], p) || fr[0] != 0x88 || int(fr[1]) != len(p) {
			t.Fatalf("AppendClose %x, payload %x", fr, p)
		}
		// Any valid UTF-8 reason, however long, makes a valid close frame.
		long := append(bytes.Repeat(reason, 1+125/(len(reason)+1)), reason...)
		fr = AppendClose(nil, code, string(long))
		if _, err := ParseClosePayload(fr[2:]); err != nil || int(fr[1]) != len(fr)-2 || len(fr) > 127 {
			t.Fatalf("AppendClose long reason: %x %v", fr, err)
		}
	})
}
