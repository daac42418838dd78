package eio

import (
	"testing"

	"github.com/riptide-io/riptide/internal/allocs"
)

func TestZeroAllocs(t *testing.T) {
	textWire := []byte(`42["chat message","hi"]`)
	binWire := []byte("b//79/A==")
	binScratch := make([]byte, len(binWire))
	payload := []byte("4hello\x1ebAQID\x1e2\x1e" + `451-["ev",{"_placeholder":true,"num":0}]`)
	payloadScratch := make([]byte, len(payload))
	dst := make([]byte, 0, 4096)
	textPkt := text(Message, `2["chat message","hi"]`)
	binPkt := binary(0xff, 0xfe, 0xfd, 0xfc, 0, 1, 2)
	ps := []Packet{textPkt, binPkt, text(Ping, ""), binary()}
	var sink Packet

	tests := []struct {
		name string
		f    func()
	}{
		{"ParsePacket", func() { sink, _ = ParsePacket(textWire) }},
		{"ParsePacket error", func() { _, _ = ParsePacket(nil) }},
		{"ParsePollingPacket text", func() { sink, _ = ParsePollingPacket(textWire) }},
		{"ParsePollingPacket binary", func() {
			copy(binScratch, binWire)
			sink, _ = ParsePollingPacket(binScratch)
		}},
		{"ParsePollingPacket bad base64", func() { _, _ = ParsePollingPacket([]byte("bA")) }},
		{"BinaryPacket", func() { sink = BinaryPacket(binWire) }},
		{"NextPacket+ParsePollingPacket", func() {
			copy(payloadScratch, payload)
			for pkt, rest, ok := NextPacket(payloadScratch); ok; pkt, rest, ok = NextPacket(rest) {
				sink, _ = ParsePollingPacket(pkt)
			}
		}},
		{"AppendPacket", func() { dst = AppendPacket(dst[:0], textPkt) }},
		{"AppendPollingPacket text", func() { dst = AppendPollingPacket(dst[:0], textPkt) }},
		{"AppendPollingPacket binary", func() { dst = AppendPollingPacket(dst[:0], binPkt) }},
		{"PollingPacketLen", func() { _ = PollingPacketLen(binPkt) }},
		{"AppendPayload", func() { dst = AppendPayload(dst[:0], ps) }},
		{"PayloadLen", func() { _ = PayloadLen(ps) }},
		{"AppendOpen", func() { dst = AppendOpen(dst[:0], nodeHandshake) }},
		{"AppendOpen escapes", func() {
			dst = AppendOpen(dst[:0], Handshake{SID: "a\"\n\x01\xffé", Upgrades: []string{"websocket"}})
		}},
		{"Validate", func() { _ = binPkt.Validate() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { allocs.MustNotAllocate(t, tc.f) })
	}
	_ = sink
}
