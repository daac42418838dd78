package server

import (
	"bufio"
	"encoding/binary"
	"io"
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

// BenchmarkFanout1000 measures one broadcast to a room of 1,000 WebSocket clients, end to
// end (the clients run in this process and count what they read).
func BenchmarkFanout1000(b *testing.B) { benchFanout(b, nil) }

// BenchmarkFanout1000Observed is BenchmarkFanout1000 with an observer told of the event for
// every recipient, as server/adminui's event feed (admin_ui.events) is.
func BenchmarkFanout1000Observed(b *testing.B) {
	var events atomic.Int64
	benchFanout(b, &Observer{EventOut: func(*Namespace, string, Args) { events.Add(1) }})
}

func benchFanout(b *testing.B, o *Observer) {
	const n = 1000
	io := New(Options{})
	if o != nil {
		ob, err := io.Observe(o)
		if err != nil {
			b.Fatal(err)
		}
		defer ob.Close()
	}
	io.On("join", func(s *Socket, ev *Event) { s.Join("room"); _ = ev.Ack() })
	addr := startIOB(b, io)
	var got atomic.Int64
	for i := 0; i < n; i++ {
		w := dialWire(b, addr)
		w.connect("/", "")
		w.send(`421["join"]`)
		w.next()
		go countFrames(w.r, &got)
	}
	payload := Object{{Key: "user", Value: "ana"}, {Key: "text", Value: "hello there"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = io.To("room").Emit("msg", payload)
		// Stay at most a few broadcasts ahead of the readers, so this measures delivery.
		for int64(i-8)*n > got.Load() {
			time.Sleep(20 * time.Microsecond)
		}
	}
	for got.Load() < int64(b.N)*n {
		time.Sleep(50 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
}

// countFrames reads server frames (unmasked, short) and counts the Socket.IO events.
func countFrames(r io.Reader, got *atomic.Int64) {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [10]byte
	buf := make([]byte, 4096)
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[2:4]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(br, hdr[2:10]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint64(hdr[2:10]))
		}
		if n > len(buf) {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return
		}
		if n > 2 && buf[0] == '4' && buf[1] == '2' {
			got.Add(1)
		}
	}
}
