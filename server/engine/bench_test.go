package engine

import (
	"testing"

	"github.com/riptide-io/riptide/codec/eio"
	"github.com/riptide-io/riptide/internal/allocs"
)

// The outbound encode paths of Session.Send, per transport, on a warm buffer.

func BenchmarkAppendWSPacketText(b *testing.B) {
	data := []byte(`2["chat",{"user":"ana","text":"hello there"}]`)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		dst = appendWSPacket(dst[:0], eio.Message, data, false)
	}
}

func BenchmarkAppendRecordAndDrain(b *testing.B) {
	data := []byte(`2["chat",{"user":"ana","text":"hello there"}]`)
	rec := make([]byte, 0, 256)
	out := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rec = appendRecord(rec[:0], eio.Message, data, false)
		out = out[:0]
		forEachRecord(rec, func(p eio.Packet) { out = appendPayloadPacket(out, p) })
	}
}

func TestEncodePathsDoNotAllocate(t *testing.T) {
	data := []byte(`2["chat","hello"]`)
	dst := make([]byte, 0, 256)
	rec := make([]byte, 0, 256)
	out := make([]byte, 0, 256)
	allocs.MustNotAllocate(t, func() {
		dst = appendWSPacket(dst[:0], eio.Message, data, false)
		dst = appendWSPacket(dst, eio.Message, data, true)
		rec = appendRecord(rec[:0], eio.Message, data, true)
		out = out[:0]
		forEachRecord(rec, func(p eio.Packet) { out = appendPayloadPacket(out, p) })
	})
	if string(out) != "b"+"MlsiY2hhdCIsImhlbGxvIl0=" {
		t.Fatalf("polling form %q", out)
	}
}
