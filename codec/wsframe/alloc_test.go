package wsframe

import (
	"testing"

	"github.com/gobwas/ws"
	"github.com/riptide-io/riptide/internal/allocs"
)

var (
	sinkHeader ws.Header
	sinkN      int
	sinkErr    error
	sinkCode   ws.StatusCode
	sinkBytes  []byte
)

func TestNoAllocs(t *testing.T) {
	var bufs [][]byte
	for _, tc := range headerCases {
		bufs = append(bufs, encodeClient(t, tc.h))
	}
	allocs.MustNotAllocate(t, func() {
		for _, b := range bufs {
			sinkHeader, sinkN, sinkErr = ParseHeader(b, 0)
			sinkHeader, sinkN, sinkErr = ParseHeader(b[:3], 0) // ErrNeedMore
		}
	})
	allocs.MustNotAllocate(t, func() {
		for _, tc := range errorCases {
			sinkHeader, sinkN, sinkErr = ParseHeaderExt(tc.buf, tc.max, tc.rsv)
			sinkCode, _ = CloseCode(sinkErr)
		}
	})

	p := make([]byte, 1024)
	allocs.MustNotAllocate(t, func() {
		Unmask(p, maskRFC)
		UnmaskAt(p[3:], maskRFC, 3)
	})

	dst := make([]byte, 0, 70000)
	payload := make([]byte, 65536)
	longReason := string(payload[:200])
	allocs.MustNotAllocate(t, func() {
		sinkBytes = AppendHeader(dst[:0], ws.OpText, 1<<40)
		sinkBytes = AppendFrame(dst[:0], ws.OpBinary, payload)
		sinkBytes = AppendFrame(dst[:0], ws.OpText, payload[:10])
		sinkBytes = AppendClose(dst[:0], ws.StatusGoingAway, "server shutting down")
		sinkBytes = AppendClose(dst[:0], ErrTooBig.Code, longReason)
		sinkN = PutHeader(dst[:MaxServerHeaderLen], ws.OpText, 70000)
	})

	var closes [][]byte
	for _, tc := range closeCases {
		closes = append(closes, []byte(tc.p))
	}
	allocs.MustNotAllocate(t, func() {
		for _, c := range closes {
			sinkCode, sinkErr = ParseClosePayload(c)
		}
	})

	var a Assembler
	seq := []ws.Header{{OpCode: ws.OpText}, {OpCode: ws.OpPing, Fin: true}, {OpCode: ws.OpContinuation, Fin: true},
		{OpCode: ws.OpContinuation}} // last one fails
	allocs.MustNotAllocate(t, func() {
		a.Reset()
		for _, h := range seq {
			_, _, sinkErr = a.Frame(h)
		}
	})
}
