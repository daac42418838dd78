package sio

import (
	"bytes"
	"errors"
	"testing"
)

func samePacket(a, b *Packet) bool {
	return a.Type == b.Type && bytes.Equal(a.Namespace, b.Namespace) && a.ID == b.ID &&
		a.Attachments == b.Attachments && bytes.Equal(a.Data, b.Data) && (a.Data == nil) == (b.Data == nil)
}

func TestDecodeNode(t *testing.T) {
	for _, tc := range nodeCases {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := Decode([]byte(tc.wire), &p); err != nil {
				t.Fatalf("Decode(%q): %v", tc.wire, err)
			}
			if !samePacket(&p, &tc.want) {
				t.Fatalf("Decode(%q) = %+v, want %+v", tc.wire, p, tc.want)
			}
			if got := AppendPacket(nil, &p); string(got) != tc.wire {
				t.Fatalf("AppendPacket = %q, want %q", got, tc.wire)
			}
			if got := AppendPacket(nil, &tc.want); string(got) != tc.wire {
				t.Fatalf("AppendPacket(want) = %q, want %q", got, tc.wire)
			}
			if p.Type.IsBinary() {
				if p.Attachments != len(tc.atts) {
					t.Fatalf("attachments %d, node sent %d", p.Attachments, len(tc.atts))
				}
				if err := CheckPlaceholders(p.Data, p.Attachments); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	for _, tc := range lenientCases {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := Decode([]byte(tc.wire), &p); err != nil {
				t.Fatalf("Decode(%q): %v", tc.wire, err)
			}
			if !samePacket(&p, &tc.want) {
				t.Fatalf("Decode(%q) = %+v, want %+v", tc.wire, p, tc.want)
			}
			if got := AppendPacket(nil, &p); string(got) != tc.canonical {
				t.Fatalf("AppendPacket = %q, want %q", got, tc.canonical)
			}
		})
	}
}

func TestDecodeBad(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := Decode([]byte(tc.wire), &p); !errors.Is(err, tc.err) {
				t.Fatalf("Decode(%q) = %v, want %v (node: %s)", tc.wire, err, tc.err, tc.node)
			}
		})
	}
}

func TestDecodeLimit(t *testing.T) {
	var p Packet
	wire := []byte(`53-["a"]`)
	if err := DecodeLimit(wire, &p, 2); err != ErrTooManyAttachments {
		t.Fatalf("limit 2: %v", err)
	}
	if err := DecodeLimit(wire, &p, 3); err != nil || p.Attachments != 3 {
		t.Fatalf("limit 3: %v, %+v", err, p)
	}
	if err := DecodeLimit([]byte(`5100-["a"]`), &p, 100); err != nil || p.Attachments != 100 {
		t.Fatalf("limit 100: %v, %+v", err, p)
	}
}

// The root namespace is a shared slice when absent and aliases the input when written.
func TestDecodeAliases(t *testing.T) {
	var p Packet
	in := []byte(`2/nsp,1["x",1]`)
	if err := Decode(in, &p); err != nil {
		t.Fatal(err)
	}
	if &p.Namespace[0] != &in[1] || &p.Data[0] != &in[7] {
		t.Fatal("Namespace/Data do not alias the input")
	}
	if err := Decode([]byte(`2["x"]`), &p); err != nil {
		t.Fatal(err)
	}
	if &p.Namespace[0] != &rootNamespace[0] {
		t.Fatal("root namespace allocated")
	}
}

func TestAppendPacketEmptyNamespace(t *testing.T) {
	p := Packet{Type: Event, ID: -1, Data: []byte(`["x"]`)}
	if got := AppendPacket(nil, &p); string(got) != `2["x"]` {
		t.Fatalf("got %q", got)
	}
	p = Packet{Type: ConnectError, Namespace: []byte("/random"), ID: -1, Data: []byte(`{"message":"Invalid namespace"}`)}
	if got := AppendPacket(nil, &p); string(got) != `4/random,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", got)
	}
}

func TestTypeString(t *testing.T) {
	if Event.String() != "EVENT" || BinaryAck.String() != "BINARY_ACK" || Type(7).String() != "Type(7)" {
		t.Fatal(Event.String(), BinaryAck.String(), Type(7).String())
	}
}

// Decode is not incremental (an Engine.IO message is whole), but every truncation of real
// traffic must fail cleanly or decode to a valid packet, never panic.
func TestDecodePrefixes(t *testing.T) {
	for _, tc := range nodeCases {
		for i := range len(tc.wire) {
			var p Packet
			if err := Decode([]byte(tc.wire[:i]), &p); err == nil {
				var q Packet
				if err := Decode(AppendPacket(nil, &p), &q); err != nil || !samePacket(&p, &q) {
					t.Fatalf("prefix %q: %+v does not round-trip: %v", tc.wire[:i], p, err)
				}
			}
		}
	}
}
