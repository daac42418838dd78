package server

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// End-to-end over loopback: a raw WebSocket client and the real server in one process, so
// allocs/op counts both sides of the wire (the client's framing included).

// BenchmarkRouteEvent measures an inbound event from the socket to its namespace handler.
func BenchmarkRouteEvent(b *testing.B) {
	io := New(Options{})
	var got atomic.Int64
	io.On("tick", func(*Socket, *Event) { got.Add(1) })
	addr := startIOB(b, io)
	w := dialWire(b, addr)
	w.connect("/", "")
	msg := []byte(`42["tick",{"user":"ana","text":"hello there"}]`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := wsutil.WriteClientText(w.c, msg); err != nil {
			b.Fatal(err)
		}
	}
	for got.Load() < int64(b.N) {
		time.Sleep(10 * time.Microsecond)
	}
}

// BenchmarkAckRoundTrip measures emit-with-ack from a client to a handler that acks.
func BenchmarkAckRoundTrip(b *testing.B) {
	io := New(Options{})
	io.On("echo-ack", func(_ *Socket, ev *Event) { _ = ev.Ack(ev.Args) })
	addr := startIOB(b, io)
	w := dialWire(b, addr)
	w.connect("/", "")
	msg := []byte(`4217["echo-ack",{"user":"ana","text":"hello there"}]`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := wsutil.WriteClientText(w.c, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := w.frame(); err != nil {
			b.Fatal(err)
		}
	}
}
