package eio

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestDecodeBase64Lengths(t *testing.T) {
	for n := 0; n <= 10; n++ {
		for _, fill := range []byte{0x00, 0xff, 0x5a} {
			data := bytes.Repeat([]byte{fill}, n)
			for i := range data {
				data[i] ^= byte(i * 37)
			}
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
				in := []byte(enc.EncodeToString(data))
				src := string(in)
				m, err := decodeBase64InPlace(in)
				if err != nil {
					t.Fatalf("decode %q: %v", src, err)
				}
				if !bytes.Equal(in[:m], data) {
					t.Fatalf("decode %q = %x, want %x", src, in[:m], data)
				}
			}
		}
	}
}

func TestDecodeBase64Padding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte // nil: error
	}{
		{"", []byte{}},
		{"AQ==", []byte{1}},
		{"AQ", []byte{1}},
		{"AQI=", []byte{1, 2}},
		{"AQI", []byte{1, 2}},
		{"AQID", []byte{1, 2, 3}},
		{"AQIDBA==", []byte{1, 2, 3, 4}},
		{"AQIDBA", []byte{1, 2, 3, 4}},
		{"+/+/", []byte{0xfb, 0xff, 0xbf}},
		{"A", nil},
		{"AQIDB", nil},
		{"=", nil},
		{"==", nil},
		{"===", nil},
		{"====", nil},
		{"A===", nil},
		{"AQ=", nil},
		{"AQ=A", nil},
		{"A=QA", nil},
		{"AQ===", nil},
		{"AQ==AQ==", nil},
		{"AQID=", nil},
		{"AQID====", nil},
		{"AR==", nil},   // non-zero unused bits
		{"AQJ=", nil},   // non-zero unused bits
		{"AQ\n==", nil}, // encoding/base64 would skip the newline
		{"AQ\r\n", nil},
		{"AQ-_", nil},
	} {
		in := []byte(tc.in)
		n, err := decodeBase64InPlace(in)
		switch {
		case tc.want == nil && err != ErrBadBase64:
			t.Errorf("decode %q = %x, %v; want ErrBadBase64", tc.in, in[:n], err)
		case tc.want != nil && (err != nil || !bytes.Equal(in[:n], tc.want)):
			t.Errorf("decode %q = %x, %v; want %x", tc.in, in[:n], err, tc.want)
		}
	}
}

// Every byte outside the alphabet is rejected in every position of a group.
func TestDecodeBase64Alphabet(t *testing.T) {
	for c := 0; c < 256; c++ {
		valid := bytes.IndexByte([]byte(b64Alphabet), byte(c)) >= 0
		for pos := 0; pos < 4; pos++ {
			in := []byte("AAAAAAAA")
			in[4+pos] = byte(c)
			_, err := decodeBase64InPlace(in)
			if valid != (err == nil) && !(c == '=' && pos == 3) { // "AAAAAAA=" is padded
				t.Fatalf("byte %#x at %d: err %v", c, pos, err)
			}
		}
	}
}
