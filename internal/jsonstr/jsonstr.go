// Package jsonstr writes JSON string literals exactly as JSON.stringify does. Both codecs and
// the engine's error bodies need it; it lives here so there is one copy.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// quoteSafe marks ASCII bytes JSON.stringify writes as themselves. It escapes only '"', '\\'
// and the controls below 0x20; '<', '>', '&', DEL and U+2028/U+2029 go out raw (unlike
// encoding/json, whose HTML escaping would make strings differ from the Node server's).
var quoteSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendQuote appends s as a JSON string literal, escaped exactly as JSON.stringify does:
// \" \\ \b \f \n \r \t, \u00xx (lowercase hex) for the other controls, everything else raw.
// Invalid UTF-8 becomes U+FFFD, which is what Node sees after decoding such bytes.
// It does not allocate when dst has room.
func AppendQuote(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if quoteSafe[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
