package eio

import (
	"bytes"
	"strconv"
	"testing"
)

// benchPayload is a polling POST body as a Socket.IO client sends it: an event with a binary
// attachment, the attachment, and a plain event.
var benchPayload = AppendPayload(nil, []Packet{
	text(Message, `51-["upload",{"_placeholder":true,"num":0}]`),
	BinaryPacket(bytes.Repeat([]byte{0xab}, 1024)),
	text(Message, `2["chat message","hello world"]`),
})

var sinkPacket Packet

func BenchmarkParsePacket(b *testing.B) {
	in := []byte(`42["chat message","hello world"]`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		sinkPacket, _ = ParsePacket(in)
	}
}

// The copy that restores the input is included: decoding is in place.
func BenchmarkParsePollingPacketBinary(b *testing.B) {
	for _, n := range []int{16, 1024, 65536} {
		b.Run(byteSize(n), func(b *testing.B) {
			wire := AppendPollingPacket(nil, BinaryPacket(bytes.Repeat([]byte{0xab}, n)))
			scratch := make([]byte, len(wire))
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				copy(scratch, wire)
				sinkPacket, _ = ParsePollingPacket(scratch)
			}
		})
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	scratch := make([]byte, len(benchPayload))
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		copy(scratch, benchPayload)
		for pkt, rest, ok := NextPacket(scratch); ok; pkt, rest, ok = NextPacket(rest) {
			sinkPacket, _ = ParsePollingPacket(pkt)
		}
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	p := text(Message, `2["chat message","hello world"]`)
	dst := make([]byte, 0, 256)
	b.SetBytes(int64(PollingPacketLen(p)))
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendPacket(dst[:0], p)
	}
}

func BenchmarkAppendPollingPacketBinary(b *testing.B) {
	for _, n := range []int{16, 1024, 65536} {
		b.Run(byteSize(n), func(b *testing.B) {
			p := BinaryPacket(bytes.Repeat([]byte{0xab}, n))
			dst := make([]byte, 0, PollingPacketLen(p))
			b.SetBytes(int64(PollingPacketLen(p)))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendPollingPacket(dst[:0], p)
			}
		})
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	ps := []Packet{
		text(Message, `51-["upload",{"_placeholder":true,"num":0}]`),
		BinaryPacket(bytes.Repeat([]byte{0xab}, 1024)),
		text(Message, `2["chat message","hello world"]`),
	}
	dst := make([]byte, 0, PayloadLen(ps))
	b.SetBytes(int64(PayloadLen(ps)))
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendPayload(dst[:0], ps)
	}
}

func BenchmarkAppendOpen(b *testing.B) {
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendOpen(dst[:0], nodeHandshake)
	}
}

func BenchmarkParseOpen(b *testing.B) {
	data := textCases[0].pkt.Data
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseOpen(data)
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

func itoa(n int) string { return strconv.Itoa(n) }
