package eio

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePollingPacket(t *testing.T) {
	for _, tc := range append(append([]packetCase{}, textCases...), binaryCases...) {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.wire)
			p, err := ParsePollingPacket(in)
			if err != nil {
				t.Fatalf("ParsePollingPacket(%q): %v", tc.wire, err)
			}
			if !samePacket(p, tc.pkt) {
				t.Fatalf("ParsePollingPacket(%q) = %+v, want %+v", tc.wire, p, tc.pkt)
			}
			if p.Data == nil {
				t.Fatal("Data is nil, want an empty slice of the input")
			}
			if len(p.Data) > 0 && &p.Data[0] != &in[1] {
				t.Fatal("Data does not alias the input")
			}
			if !tc.pkt.Binary && string(in) != tc.wire {
				t.Fatalf("text input modified: %q", in)
			}
		})
	}
}

func TestParsePollingPacketErrors(t *testing.T) {
	for _, tc := range badCases {
		if _, err := ParsePollingPacket([]byte(tc.wire)); err != tc.err {
			t.Errorf("%s: ParsePollingPacket(%q) error = %v, want %v", tc.name, tc.wire, err, tc.err)
		}
	}
}

// Node's Buffer.from accepts unpadded base64, so we do too; every known client pads.
func TestParsePollingPacketUnpadded(t *testing.T) {
	for wire, want := range map[string][]byte{
		"b/w":     {0xff},
		"b//4":    {0xff, 0xfe},
		"b//79/A": {0xff, 0xfe, 0xfd, 0xfc},
	} {
		p, err := ParsePollingPacket([]byte(wire))
		if err != nil || !samePacket(p, binary(want...)) {
			t.Errorf("ParsePollingPacket(%q) = %+v, %v; want %v", wire, p, err, want)
		}
	}
}

func TestAppendPollingPacket(t *testing.T) {
	for _, tc := range append(append([]packetCase{}, textCases...), binaryCases...) {
		got := AppendPollingPacket(nil, tc.pkt)
		if string(got) != tc.wire {
			t.Errorf("%s: AppendPollingPacket = %q, want %q", tc.name, got, tc.wire)
		}
		if n := PollingPacketLen(tc.pkt); n != len(got) {
			t.Errorf("%s: PollingPacketLen = %d, want %d", tc.name, n, len(got))
		}
		if got := AppendPollingPacket([]byte("xy"), tc.pkt); string(got) != "xy"+tc.wire {
			t.Errorf("%s: AppendPollingPacket after prefix = %q", tc.name, got)
		}
	}
}

// PROTOCOL-NOTES 9: an empty buffer must survive both ways.
func TestEmptyBinaryRoundTrip(t *testing.T) {
	enc := AppendPollingPacket(nil, BinaryPacket([]byte{}))
	if string(enc) != "b" {
		t.Fatalf("encoded empty binary = %q, want %q", enc, "b")
	}
	p, err := ParsePollingPacket(enc)
	if err != nil || !p.Binary || p.Type != Message || p.Data == nil || len(p.Data) != 0 {
		t.Fatalf("decoded empty binary = %+v, %v", p, err)
	}
	if enc := AppendPollingPacket(nil, BinaryPacket(nil)); string(enc) != "b" {
		t.Fatalf("encoded nil binary = %q", enc)
	}
}

func TestPollingRoundTripSizes(t *testing.T) {
	for n := 0; n <= 300; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		p := BinaryPacket(data)
		enc := AppendPollingPacket(nil, p)
		if len(enc) != PollingPacketLen(p) {
			t.Fatalf("n=%d: len %d, PollingPacketLen %d", n, len(enc), PollingPacketLen(p))
		}
		got, err := ParsePollingPacket(enc)
		if err != nil || !samePacket(got, p) {
			t.Fatalf("n=%d: round trip = %+v, %v", n, got, err)
		}
	}
}

// splitPayload collects NextPacket's output.
func splitPayload(payload []byte) []string {
	var out []string
	for pkt, rest, ok := NextPacket(payload); ok; pkt, rest, ok = NextPacket(rest) {
		out = append(out, string(pkt))
	}
	return out
}

func TestNextPacket(t *testing.T) {
	for _, tc := range payloadCases {
		t.Run(tc.name, func(t *testing.T) {
			got := splitPayload([]byte(tc.payload))
			if strings.Join(got, "|") != strings.Join(tc.pkts, "|") || len(got) != len(tc.pkts) {
				t.Fatalf("NextPacket split %q into %q, want %q", tc.payload, got, tc.pkts)
			}
			checkSplitPrefix(t, tc.payload, got)
		})
	}
	if _, _, ok := NextPacket(nil); ok {
		t.Fatal("NextPacket(nil) ok")
	}
}

// checkSplitPrefix asserts that got is what engine.io-parser's payload.split("\x1e") yields up to
// and including its first empty packet (where Node stops with a parse error).
func checkSplitPrefix(t testing.TB, payload string, got []string) {
	t.Helper()
	if payload == "" {
		if len(got) != 0 {
			t.Fatalf("empty payload yielded %q", got)
		}
		return
	}
	want := strings.Split(payload, string(rune(Separator)))
	for i, s := range want {
		if s == "" {
			want = want[:i+1]
			break
		}
	}
	if len(got) < len(want) {
		t.Fatalf("split %q: got %q, want prefix %q", payload, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("split %q: got %q, want prefix %q", payload, got, want)
		}
	}
	if want[len(want)-1] != "" && len(got) != len(want) {
		t.Fatalf("split %q: got %q, want %q", payload, got, want)
	}
}

// Decoding whole payloads the way the polling transport will: split, then parse in place.
func TestDecodePayload(t *testing.T) {
	want := map[string][]Packet{
		"node text binary ping": {text(Message, "hello"), binary(1, 2, 3), text(Ping, "")},
		"node empty binary":     {binary()},
		"node utf8 close":       {text(Message, "€ é 😀"), text(Close, "")},
		"node binaries":         {binary(0xff), binary(0xff, 0xfe), binary(0xff, 0xfe, 0xfd, 0xfc)},
		"node sio binary event": {text(Message, `51-["ev",{"_placeholder":true,"num":0}]`), binary('a', 'b', 'c')},
		"node pong connect":     {text(Pong, ""), text(Message, "40")},
	}
	for _, tc := range payloadCases {
		w, ok := want[tc.name]
		if !ok {
			continue
		}
		var got []Packet
		buf := []byte(tc.payload)
		for pkt, rest, ok := NextPacket(buf); ok; pkt, rest, ok = NextPacket(rest) {
			p, err := ParsePollingPacket(pkt)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got = append(got, p)
		}
		if len(got) != len(w) {
			t.Fatalf("%s: %d packets, want %d", tc.name, len(got), len(w))
		}
		for i := range w {
			if !samePacket(got[i], w[i]) {
				t.Errorf("%s: packet %d = %+v, want %+v", tc.name, i, got[i], w[i])
			}
		}
		// And back: the server's encoder writes what engine.io-parser's encodePayload writes.
		if enc := AppendPayload(nil, w); string(enc) != tc.payload {
			t.Errorf("%s: AppendPayload = %q, want %q", tc.name, enc, tc.payload)
		}
		if n := PayloadLen(w); n != len(tc.payload) {
			t.Errorf("%s: PayloadLen = %d, want %d", tc.name, n, len(tc.payload))
		}
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	for _, payload := range []string{"4a\x1e", "\x1e4a", "4a\x1e\x1e4b", "4a\x1e7", "4a\x1ebA", "\x1e"} {
		var err error
		for pkt, rest, ok := NextPacket([]byte(payload)); ok && err == nil; pkt, rest, ok = NextPacket(rest) {
			_, err = ParsePollingPacket(pkt)
		}
		if err == nil {
			t.Errorf("payload %q decoded without error", payload)
		}
	}
}

// Decoding a binary packet in place must not touch the rest of the payload.
func TestParsePollingPacketLeavesRest(t *testing.T) {
	payload := []byte("b//79/A==\x1e4after\x1ebYWJj")
	pkt, rest, _ := NextPacket(payload)
	if _, err := ParsePollingPacket(pkt); err != nil {
		t.Fatal(err)
	}
	if string(rest) != "4after\x1ebYWJj" {
		t.Fatalf("rest = %q", rest)
	}
}

func TestAppendPayload(t *testing.T) {
	if got := AppendPayload(nil, nil); len(got) != 0 {
		t.Fatalf("AppendPayload(nil) = %q", got)
	}
	ps := []Packet{text(Message, "hello"), binary(1, 2, 3), text(Ping, ""), binary()}
	got := AppendPayload([]byte("x"), ps)
	if want := "x4hello\x1ebAQID\x1e2\x1eb"; string(got) != want {
		t.Fatalf("AppendPayload = %q, want %q", got, want)
	}
	if PayloadLen(ps) != len(got)-1 || PayloadLen(nil) != 0 {
		t.Fatalf("PayloadLen = %d, want %d", PayloadLen(ps), len(got)-1)
	}
}

func TestAppendPayloadRoundTrip(t *testing.T) {
	var ps []Packet
	for _, tc := range append(append([]packetCase{}, textCases...), binaryCases...) {
		ps = append(ps, tc.pkt)
	}
	enc := AppendPayload(nil, ps)
	i := 0
	for pkt, rest, ok := NextPacket(bytes.Clone(enc)); ok; pkt, rest, ok = NextPacket(rest) {
		p, err := ParsePollingPacket(pkt)
		if err != nil {
			t.Fatalf("packet %d (%q): %v", i, pkt, err)
		}
		if !samePacket(p, ps[i]) {
			t.Fatalf("packet %d = %+v, want %+v", i, p, ps[i])
		}
		i++
	}
	if i != len(ps) {
		t.Fatalf("decoded %d packets, want %d", i, len(ps))
	}
}
