package eio

import (
	"bytes"
	"errors"
	"testing"
)

func samePacket(a, b Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}

func TestTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop", "Type(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
	}
	if got := Type(255).String(); got != "Type(255)" {
		t.Errorf("Type(255).String() = %q", got)
	}
}

func TestParsePacket(t *testing.T) {
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.wire)
			p, err := ParsePacket(in)
			if err != nil {
				t.Fatalf("ParsePacket(%q): %v", tc.wire, err)
			}
			if !samePacket(p, tc.pkt) {
				t.Fatalf("ParsePacket(%q) = %+v, want %+v", tc.wire, p, tc.pkt)
			}
			if string(in) != tc.wire {
				t.Fatalf("input modified: %q", in)
			}
			if len(p.Data) > 0 && &p.Data[0] != &in[1] {
				t.Fatal("Data does not alias the input")
			}
		})
	}
}

func TestParsePacketErrors(t *testing.T) {
	for _, tc := range badCases {
		if tc.err == ErrBadBase64 {
			continue // base64 is a polling form; ParsePacket sees an unknown type 'b'
		}
		if _, err := ParsePacket([]byte(tc.wire)); err != tc.err {
			t.Errorf("%s: ParsePacket(%q) error = %v, want %v", tc.name, tc.wire, err, tc.err)
		}
	}
	for _, tc := range binaryCases {
		if _, err := ParsePacket([]byte(tc.wire)); err != ErrUnknownType {
			t.Errorf("ParsePacket(%q) error = %v, want %v", tc.wire, err, ErrUnknownType)
		}
	}
	if _, err := ParsePacket(nil); err != ErrEmptyPacket {
		t.Errorf("ParsePacket(nil) error = %v", err)
	}
}

func TestAppendPacket(t *testing.T) {
	for _, tc := range textCases {
		if got := AppendPacket(nil, tc.pkt); string(got) != tc.wire {
			t.Errorf("%s: AppendPacket = %q, want %q", tc.name, got, tc.wire)
		}
		// Appends, does not overwrite.
		if got := AppendPacket([]byte("xy"), tc.pkt); string(got) != "xy"+tc.wire {
			t.Errorf("%s: AppendPacket after prefix = %q", tc.name, got)
		}
	}
	// A binary packet given anyway: digit and raw bytes, no base64.
	if got := AppendPacket(nil, binary(1, 2)); string(got) != "4\x01\x02" {
		t.Errorf("AppendPacket(binary) = %q", got)
	}
}

func TestBinaryPacket(t *testing.T) {
	for _, in := range [][]byte{nil, {}, {0}, {1, 2, 3}, []byte("4hello")} {
		p := BinaryPacket(in)
		if p.Type != Message || !p.Binary || !bytes.Equal(p.Data, in) {
			t.Fatalf("BinaryPacket(%q) = %+v", in, p)
		}
		if len(in) > 0 && &p.Data[0] != &in[0] {
			t.Fatal("Data does not alias the frame")
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range append(append([]packetCase{}, textCases...), binaryCases...) {
		if err := tc.pkt.Validate(); err != nil {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
	if err := (Packet{Type: Noop + 1}).Validate(); err != ErrUnknownType {
		t.Errorf("Validate(type 7) = %v", err)
	}
	if err := (Packet{Type: Ping, Binary: true}).Validate(); !errors.Is(err, ErrBinaryNotMessage) {
		t.Errorf("Validate(binary ping) = %v", err)
	}
}
