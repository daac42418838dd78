package eio

import (
	"errors"
	"testing"
)

var nodeHandshake = Handshake{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000}

func TestAppendOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Handshake
		want string
	}{
		{"polling", nodeHandshake, textCases[0].wire},
		{"websocket", Handshake{SID: "abc", Upgrades: []string{}, PingInterval: 300, PingTimeout: 200, MaxPayload: 1e8},
			`0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100000000}`},
		{"nil upgrades", Handshake{SID: "abc"},
			`0{"sid":"abc","upgrades":[],"pingInterval":0,"pingTimeout":0,"maxPayload":0}`},
		{"two upgrades", Handshake{SID: "abc", Upgrades: []string{"websocket", "webtransport"}, PingInterval: 1, PingTimeout: 2, MaxPayload: 3},
			`0{"sid":"abc","upgrades":["websocket","webtransport"],"pingInterval":1,"pingTimeout":2,"maxPayload":3}`},
		// The escapes below are JSON.stringify's output under Node 20.
		{"escapes", Handshake{SID: "a\"b\\c"},
			`0{"sid":"a\"b\\c","upgrades":[],"pingInterval":0,"pingTimeout":0,"maxPayload":0}`},
		{"controls", Handshake{SID: "\b\f\n\r\t\x00\x1f\x7f"},
			`0{"sid":"\b\f\n\r\t\u0000\u001f` + "\x7f" + `","upgrades":[],"pingInterval":0,"pingTimeout":0,"maxPayload":0}`},
		{"literal", Handshake{SID: "<>&\u2028\u2029é😀"},
			`0{"sid":"<>&` + "\u2028\u2029" + `é😀","upgrades":[],"pingInterval":0,"pingTimeout":0,"maxPayload":0}`},
		{"invalid utf8", Handshake{SID: "a\xffb\xc3"},
			`0{"sid":"a` + "\ufffdb\ufffd" + `","upgrades":[],"pingInterval":0,"pingTimeout":0,"maxPayload":0}`}, // raw U+FFFD, as JSON.stringify writes it
		{"negative", Handshake{SID: "x", PingInterval: -1},
			`0{"sid":"x","upgrades":[],"pingInterval":-1,"pingTimeout":0,"maxPayload":0}`},
	} {
		if got := AppendOpen(nil, tc.h); string(got) != tc.want {
			t.Errorf("%s: AppendOpen =\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

func sameHandshake(a, b Handshake) bool {
	if a.SID != b.SID || a.PingInterval != b.PingInterval || a.PingTimeout != b.PingTimeout ||
		a.MaxPayload != b.MaxPayload || len(a.Upgrades) != len(b.Upgrades) {
		return false
	}
	for i := range a.Upgrades {
		if a.Upgrades[i] != b.Upgrades[i] {
			return false
		}
	}
	return true
}

func TestParseOpen(t *testing.T) {
	p, err := ParsePacket([]byte(textCases[0].wire))
	if err != nil || p.Type != Open {
		t.Fatal(p, err)
	}
	h, err := ParseOpen(p.Data)
	if err != nil || !sameHandshake(h, nodeHandshake) {
		t.Fatalf("ParseOpen = %+v, %v", h, err)
	}
	// Round trip through the escaping.
	for _, sid := range []string{"a\"b\\c", "\b\f\n\r\t\x00\x1f\x7f", "<>&\u2028\u2029é😀"} {
		want := Handshake{SID: sid, Upgrades: []string{sid}, PingInterval: 1, PingTimeout: 2, MaxPayload: 3}
		enc := AppendOpen(nil, want)
		h, err := ParseOpen(enc[1:])
		if err != nil || !sameHandshake(h, want) {
			t.Fatalf("round trip %q = %+v, %v", sid, h, err)
		}
	}
	// Unknown keys are ignored, missing numbers are zero.
	h, err = ParseOpen([]byte(`{"sid":"x","extra":[1,2],"pingInterval":5}`))
	if err != nil || !sameHandshake(h, Handshake{SID: "x", PingInterval: 5}) {
		t.Fatalf("ParseOpen = %+v, %v", h, err)
	}
}

func TestParseOpenErrors(t *testing.T) {
	for _, in := range []string{
		``, `null`, `{}`, `[]`, `"sid"`, `{"sid":""}`, `{"sid":1}`, `{"sid":null}`,
		`{"sid":"x","pingInterval":1.5}`, `{"sid":"x","pingInterval":"1"}`,
		`{"sid":"x","pingTimeout":1e30}`, `{"sid":"x","upgrades":"websocket"}`,
		`{"sid":"x"`, `{"sid":"x"}x`, textCases[0].wire, // with the type digit: not JSON
	} {
		if _, err := ParseOpen([]byte(in)); !errors.Is(err, ErrBadOpen) {
			t.Errorf("ParseOpen(%q) error = %v, want ErrBadOpen", in, err)
		}
	}
}
