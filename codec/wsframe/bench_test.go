package wsframe

import (
	"testing"

	"github.com/gobwas/ws"
)

func BenchmarkParseHeader(b *testing.B) {
	for _, i := range []int{0, 3, 7} { // 7-bit, 16-bit, 64-bit cases
		tc := headerCases[i]
		buf := encodeClient(b, tc.h)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkHeader, sinkN, sinkErr = ParseHeader(buf, 0)
			}
		})
	}
	b.Run("error/unmasked", func(b *testing.B) {
		b.ReportAllocs()
		buf := errorCases[0].buf
		for b.Loop() {
			sinkHeader, sinkN, sinkErr = ParseHeader(buf, 0)
		}
	})
}

// The server's loop over a batch of real client frames: header, skip payload.
func BenchmarkParseStream(b *testing.B) {
	frames := realFrames(b)
	var stream []byte
	for _, f := range frames {
		stream = append(stream, f...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		buf := stream
		for len(buf) > 0 {
			h, n, err := ParseHeader(buf, 1e6)
			if err != nil {
				b.Fatal(err)
			}
			sinkCode += ws.StatusCode(h.Mask[0])
			buf = buf[n+int(h.Length):]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/frame")
}

func BenchmarkUnmask(b *testing.B) {
	for _, size := range []int{16, 1024, 64 << 10} {
		p := make([]byte, size)
		b.Run(byteSize(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				Unmask(p, maskRFC)
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range []int{6, 1024, 64 << 10} {
		payload := make([]byte, size)
		dst := make([]byte, 0, size+MaxServerHeaderLen)
		b.Run(byteSize(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				sinkBytes = AppendFrame(dst[:0], ws.OpText, payload)
			}
		})
	}
	b.Run("header-only", func(b *testing.B) {
		b.ReportAllocs()
		var dst [MaxServerHeaderLen]byte
		for b.Loop() {
			sinkN = PutHeader(dst[:], ws.OpText, 1024)
		}
	})
	b.Run("close", func(b *testing.B) {
		b.ReportAllocs()
		dst := make([]byte, 0, 127)
		for b.Loop() {
			sinkBytes = AppendClose(dst[:0], ws.StatusGoingAway, "server shutting down")
		}
	})
}

func BenchmarkParseClosePayload(b *testing.B) {
	p := []byte("\x03\xe8normal closure")
	b.ReportAllocs()
	for b.Loop() {
		sinkCode, sinkErr = ParseClosePayload(p)
	}
}

func BenchmarkAssembler(b *testing.B) {
	seq := []ws.Header{{OpCode: ws.OpText}, {OpCode: ws.OpPing, Fin: true}, {OpCode: ws.OpContinuation, Fin: true}}
	var a Assembler
	b.ReportAllocs()
	for b.Loop() {
		for _, h := range seq {
			_, _, sinkErr = a.Frame(h)
		}
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + "KiB"
	default:
		return itoa(n) + "B"
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
