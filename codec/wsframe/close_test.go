package wsframe

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func TestParseClosePayload(t *testing.T) {
	for _, tc := range closeCases {
		t.Run(tc.name, func(t *testing.T) {
			code, err := ParseClosePayload([]byte(tc.p))
			if code != tc.code || err != tc.err {
				t.Fatalf("got %d, %v; want %d, %v", code, err, tc.code, tc.err)
			}
			if err != nil {
				if c, ok := CloseCode(err); !ok || c != code {
					t.Fatalf("CloseCode = %d, %v; returned code %d", c, ok, code)
				}
			}
		})
	}
}

// Every code, against the RFC 6455 7.4 ranges and gobwas/ws's checker (which
// predates IANA's 1012-1014 and accepts 5000+).
func TestValidCloseCode(t *testing.T) {
	for c := 0; c <= 0xffff; c++ {
		code := ws.StatusCode(c)
		gobwas := ws.CheckCloseFrameData(code, "") == nil
		// gobwas/ws lets 5000+ through (no range covers them); RFC 6455 7.4.2
		// defines nothing above 4999.
		want := (gobwas && c < 5000) || (c >= 1012 && c <= 1014)
		if ValidCloseCode(code) != want {
			t.Fatalf("ValidCloseCode(%d) = %v", c, !want)
		}
	}
}

func TestAppendClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes, 2-byte characters
	cases := []struct {
		name   string
		code   ws.StatusCode
		reason string
		want   string // payload
	}{
		{"normal", 1000, "", "\x03\xe8"},
		{"reason", 1001, "server shutting down", "\x03\xe9server shutting down"},
		{"1009", ErrTooBig.Code, ErrTooBig.Reason, "\x03\xf1message too big"},
		{"ascii 123 kept", 1000, strings.Repeat("a", 123), "\x03\xe8" + strings.Repeat("a", 123)},
		{"ascii 124 cut", 1000, strings.Repeat("a", 124), "\x03\xe8" + strings.Repeat("a", 123)},
		// 123 is odd: the 62nd "é" would straddle the limit and is dropped whole.
		{"utf8 cut at rune start", 1000, long, "\x03\xe8" + strings.Repeat("é", 61)},
		{"4-byte runes", 3000, strings.Repeat("😀", 40), "\x0b\xb8" + strings.Repeat("😀", 30)},
		{"1005 echo is empty", ws.StatusNoStatusRcvd, "ignored", ""},
		{"0 is empty", 0, "", ""},
		{"1006 is empty", ws.StatusAbnormalClosure, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := AppendClose([]byte("x"), tc.code, tc.reason)
			r := bytes.NewReader(f[1:])
			h, err := ws.ReadHeader(r)
			if err != nil || h.OpCode != ws.OpClose || !h.Fin || h.Masked || h.Length > 125 {
				t.Fatalf("header %+v %v", h, err)
			}
			p := f[len(f)-r.Len():]
			if string(p) != tc.want || int64(len(p)) != h.Length {
				t.Fatalf("payload %q, want %q", p, tc.want)
			}
			if !utf8.Valid(CloseReason(p)) {
				t.Fatal("reason not UTF-8")
			}
			// Our own close frames pass our own (client-side equivalent) check.
			if _, err := ParseClosePayload(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCloseReason(t *testing.T) {
	if CloseReason(nil) != nil || CloseReason([]byte{3, 0xe8}) != nil {
		t.Fatal("want nil")
	}
	if string(CloseReason([]byte("\x03\xe8bye"))) != "bye" {
		t.Fatal("reason")
	}
}
