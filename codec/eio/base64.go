package eio

// The base64 decoder is written out rather than taken from encoding/base64 because it decodes in
// place: encoding/base64 does not document that Decode tolerates dst aliasing src, and a future
// change to its block-at-a-time fast paths could silently break that.

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Invalid marks bytes outside the alphabet in b64Decode. Valid values are below 64, so any
// invalid byte among several is caught by testing the OR of their values against 0xC0.
const b64Invalid = 0xFF

var b64Decode = func() (m [256]byte) {
	for i := range m {
		m[i] = b64Invalid
	}
	for i := 0; i < len(b64Alphabet); i++ {
		m[b64Alphabet[i]] = byte(i)
	}
	return m
}()

// decodeBase64InPlace decodes the standard base64 in b over b itself and returns the decoded
// length n: the bytes are b[:n]. Every 4 characters read become at most 3 bytes written at a
// lower or equal offset, and each group is read whole before it is written, so the output never
// overwrites input not yet read. Padding is optional but, when present, must complete the last
// group of 4; the unused low bits of the last character must be zero (canonical encoding).
func decodeBase64InPlace(b []byte) (int, error) {
	n := len(b)
	if n%4 == 1 {
		return 0, ErrBadBase64 // one character carries 6 bits, not a byte
	}
	if n%4 == 0 && n > 0 && b[n-1] == '=' {
		n--
		if b[n-1] == '=' {
			n--
		}
	}
	// Any other '=' is outside the alphabet and fails the lookups below.
	full := n &^ 3
	w := 0
	for r := 0; r < full; r += 4 {
		c0, c1, c2, c3 := b64Decode[b[r]], b64Decode[b[r+1]], b64Decode[b[r+2]], b64Decode[b[r+3]]
		if (c0|c1|c2|c3)&0xC0 != 0 {
			return 0, ErrBadBase64
		}
		v := uint32(c0)<<18 | uint32(c1)<<12 | uint32(c2)<<6 | uint32(c3)
		b[w], b[w+1], b[w+2] = byte(v>>16), byte(v>>8), byte(v)
		w += 3
	}
	switch n - full {
	case 2: // "xy" or "xy==": one byte, 4 low bits of y unused
		c0, c1 := b64Decode[b[full]], b64Decode[b[full+1]]
		if (c0|c1)&0xC0 != 0 || c1&0x0F != 0 {
			return 0, ErrBadBase64
		}
		b[w] = c0<<2 | c1>>4
		w++
	case 3: // "xyz" or "xyz=": two bytes, 2 low bits of z unused
		c0, c1, c2 := b64Decode[b[full]], b64Decode[b[full+1]], b64Decode[b[full+2]]
		if (c0|c1|c2)&0xC0 != 0 || c2&0x03 != 0 {
			return 0, ErrBadBase64
		}
		v := uint32(c0)<<10 | uint32(c1)<<4 | uint32(c2)>>2
		b[w], b[w+1] = byte(v>>8), byte(v)
		w += 2
	case 1: // unreachable: n%4 == 1 is rejected above and at most two '=' are stripped
		return 0, ErrBadBase64
	}
	return w, nil
}
