package http1

import (
	"bytes"
	"errors"
)

// ErrBadEscape reports a '%' not followed by two hex digits.
var ErrBadEscape = errors.New("http1: invalid percent escape")

// AppendUnescape appends v with %XX escapes decoded and '+' turned into a
// space (the application/x-www-form-urlencoded rules of query values, like
// url.QueryUnescape) to dst and returns the extended slice. On a bad escape it
// returns dst unchanged (same length) and ErrBadEscape; Node's querystring
// would keep such bytes literally, but an Engine.IO client never sends them.
// It does not allocate when dst has room for len(v) more bytes.
func AppendUnescape(dst, v []byte) ([]byte, error) {
	n0 := len(dst)
	for len(v) > 0 {
		// Copy the run without escapes in one append.
		i := 0
		for i < len(v) && v[i] != '%' && v[i] != '+' {
			i++
		}
		dst = append(dst, v[:i]...)
		if i == len(v) {
			break
		}
		if v[i] == '+' {
			dst = append(dst, ' ')
			v = v[i+1:]
			continue
		}
		if len(v)-i < 3 {
			return dst[:n0], ErrBadEscape
		}
		hi, lo := unhex(v[i+1]), unhex(v[i+2])
		if hi > 15 || lo > 15 {
			return dst[:n0], ErrBadEscape
		}
		dst = append(dst, hi<<4|lo)
		v = v[i+3:]
	}
	return dst, nil
}

// NeedsUnescape reports whether v contains '%' or '+', that is whether
// AppendUnescape would change it; most sid and transport values do not.
func NeedsUnescape(v []byte) bool {
	return bytes.IndexByte(v, '%') >= 0 || bytes.IndexByte(v, '+') >= 0
}

// unhex returns the value of hex digit c, or 255.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}
