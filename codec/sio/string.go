package sio

import (
	"unicode/utf8"

	"github.com/riptide-io/riptide/internal/jsonstr"
)

// AppendQuote appends s as a JSON string literal, escaped exactly as JSON.stringify does:
// \" \\ \b \f \n \r \t, \u00xx (lowercase hex) for the other controls, everything else raw.
// Invalid UTF-8 becomes U+FFFD, which is what Node sees after decoding such bytes.
// It does not allocate when dst has room.
func AppendQuote(dst []byte, s string) []byte { return jsonstr.AppendQuote(dst, s) }

// AppendUnquote appends the text of the JSON string literal lit (quotes included, no
// surrounding whitespace) to dst. Escapes are decoded as encoding/json does: a surrogate pair
// becomes one character, a lone surrogate and invalid UTF-8 become U+FFFD. It returns
// ErrInvalidJSON and dst unchanged when lit is not one valid string literal. It does not
// allocate when dst has room; len(lit) bytes suffice unless lit holds invalid UTF-8 (each bad
// byte becomes the three bytes of U+FFFD).
func AppendUnquote(dst, lit []byte) ([]byte, error) {
	if len(lit) == 0 || lit[0] != '"' {
		return dst, ErrInvalidJSON
	}
	if end, ok := scanString(lit, 0); !ok || end != len(lit) {
		return dst, ErrInvalidJSON
	}
	var buf [4]byte
	for i, end := 1, len(lit)-1; i < end; {
		if c := lit[i]; c != '\\' && c < utf8.RuneSelf {
			j := i + 1
			for j < end && lit[j] != '\\' && lit[j] < utf8.RuneSelf {
				j++
			}
			dst = append(dst, lit[i:j]...)
			i = j
			continue
		}
		var n int
		n, i = decodeChar(lit, i, &buf)
		dst = append(dst, buf[:n]...)
	}
	return dst, nil
}

// Unquote returns the text of the JSON string literal lit without copying when it can: a
// subslice of lit when the literal has no escapes and is valid UTF-8, otherwise the text
// decoded into buf[:0] (see AppendUnquote). The result aliases lit or buf accordingly. Use it
// for map lookups: m[string(text)] does not allocate.
func Unquote(buf, lit []byte) ([]byte, error) {
	if len(lit) >= 2 && lit[0] == '"' {
		inner := lit[1 : len(lit)-1 : len(lit)-1]
		if noEscapes(inner) && utf8.Valid(inner) {
			if end, ok := scanString(lit, 0); ok && end == len(lit) {
				return inner, nil
			}
		}
	}
	return AppendUnquote(buf[:0], lit)
}

func noEscapes(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return false
		}
	}
	return true
}

// decodeChar decodes the character at lit[i] inside a valid string literal (before its
// closing quote) into buf. It returns the UTF-8 length written and the index after it.
func decodeChar(lit []byte, i int, buf *[4]byte) (n, next int) {
	c := lit[i]
	if c != '\\' {
		if c < utf8.RuneSelf {
			buf[0] = c
			return 1, i + 1
		}
		// The closing '"' stops a truncated sequence: DecodeRune reports RuneError, size 1.
		r, size := utf8.DecodeRune(lit[i:])
		if r == utf8.RuneError && size == 1 {
			return utf8.EncodeRune(buf[:], utf8.RuneError), i + 1
		}
		return copy(buf[:], lit[i:i+size]), i + size
	}
	switch e := lit[i+1]; e {
	case 'b':
		buf[0] = '\b'
	case 'f':
		buf[0] = '\f'
	case 'n':
		buf[0] = '\n'
	case 'r':
		buf[0] = '\r'
	case 't':
		buf[0] = '\t'
	case 'u':
		r := hex4(lit[i+2 : i+6])
		next = i + 6
		if r >= 0xd800 && r < 0xdc00 { // high surrogate: combine with a following low one
			if len(lit)-next >= 6 && lit[next] == '\\' && lit[next+1] == 'u' {
				if r2 := hex4(lit[next+2 : next+6]); r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
					next += 6
				}
			}
		}
		return utf8.EncodeRune(buf[:], r), next // EncodeRune writes U+FFFD for a lone surrogate
	default: // '"', '\\', '/'
		buf[0] = e
	}
	return 1, i + 2
}

// strEqual reports whether the valid JSON string literal lit decodes to s, without allocating.
func strEqual(lit []byte, s string) bool {
	inner := lit[1 : len(lit)-1]
	if plainASCII(inner) {
		return string(inner) == s
	}
	var buf [4]byte
	for i, end := 1, len(lit)-1; i < end; {
		var n int
		n, i = decodeChar(lit, i, &buf)
		if len(s) < n || string(buf[:n]) != s[:n] {
			return false
		}
		s = s[n:]
	}
	return len(s) == 0
}

// plainASCII reports whether b holds neither escapes nor non-ASCII bytes: string content that
// decodes to itself.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
