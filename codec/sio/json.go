package sio

import (
	"encoding/binary"
)

// maxDepth is encoding/json's nesting limit (maxNestingDepth): Valid agrees with json.Valid,
// so a payload the Go side could not decode is rejected at the door.
const maxDepth = 10000

// smallStack is the nesting the scanner tracks in one machine word. Deeper input is rescanned
// with a stack array big enough for maxDepth; real payloads never get there, so the common
// call does not zero 1.2 KB of stack.
const smallStack = 64

// scanError is scan's verdict; scanDeep asks the caller to retry with a bigger stack.
type scanError uint8

const (
	scanOK scanError = iota
	scanBad
	scanDeep
)

// isWS marks JSON's four whitespace bytes.
var isWS = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// strSafe marks bytes that stand for themselves inside a JSON string: everything except '"',
// '\\' and the controls below 0x20. Bytes from 0x80 up are safe: like encoding/json, Valid does
// not check UTF-8 (the WebSocket layer validates text frames).
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS[b[i]] {
		i++
	}
	return i
}

// trimWS returns b without JSON whitespace on either side.
func trimWS(b []byte) []byte {
	i := skipWS(b, 0)
	j := len(b)
	for j > i && isWS[b[j-1]] {
		j--
	}
	return b[i:j]
}

// Valid reports whether b is exactly one JSON value, optionally surrounded by whitespace.
// It agrees with encoding/json.Valid, including the nesting limit of 10000 and the acceptance of
// invalid UTF-8 inside strings. It does not allocate.
func Valid(b []byte) bool {
	i := skipWS(b, 0)
	end, ok := scanValue(b, i, maxDepth)
	return ok && skipWS(b, end) == len(b)
}

// scanValue validates the JSON value starting exactly at b[i] and returns the index just past
// it. depth bounds the nesting of containers inside the value (maxDepth at top level).
func scanValue(b []byte, i, depth int) (int, bool) {
	var small [smallStack / 64]uint64
	end, e := scan(b, i, depth, small[:])
	if e == scanDeep {
		var big [maxDepth/64 + 1]uint64
		end, e = scan(b, i, depth, big[:])
	}
	return end, e == scanOK
}

// scan is an iterative JSON validator: stack holds one bit per open container (1 = object), so
// hostile nesting costs no recursion. It returns scanDeep when stack is too small.
func scan(b []byte, i, maxD int, stack []uint64) (int, scanError) {
	depth := 0
	for {
		// A value starts at i.
		if i >= len(b) {
			return i, scanBad
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth >= maxD {
				return i, scanBad
			}
			i = skipWS(b, i+1)
			if i < len(b) && b[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
				i++
				break
			}
			if depth >= len(stack)*64 {
				return i, scanDeep
			}
			w, bit := depth/64, uint64(1)<<(depth%64)
			depth++
			if c == '[' {
				stack[w] &^= bit
				continue
			}
			stack[w] |= bit
			var ok bool
			if i, ok = scanKey(b, i); !ok {
				return i, scanBad
			}
			continue
		case '"':
			var ok bool
			if i, ok = scanString(b, i); !ok {
				return i, scanBad
			}
		case 't':
			if !hasLit(b, i, "true") {
				return i, scanBad
			}
			i += 4
		case 'f':
			if !hasLit(b, i, "false") {
				return i, scanBad
			}
			i += 5
		case 'n':
			if !hasLit(b, i, "null") {
				return i, scanBad
			}
			i += 4
		default:
			var ok bool
			if i, ok = scanNumber(b, i); !ok {
				return i, scanBad
			}
		}
		// A value ended at i: close containers until one continues with ','.
		for {
			if depth == 0 {
				return i, scanOK
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, scanBad
			}
			d := depth - 1
			isObj := stack[d/64]&(uint64(1)<<(d%64)) != 0
			c := b[i]
			if c == ',' {
				i = skipWS(b, i+1)
				if isObj {
					var ok bool
					if i, ok = scanKey(b, i); !ok {
						return i, scanBad
					}
				}
				break
			}
			if isObj && c == '}' || !isObj && c == ']' {
				i++
				depth--
				continue
			}
			return i, scanBad
		}
	}
}

// scanKey reads `"key"` ws ':' ws starting at b[i] and returns the index of the value.
func scanKey(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	i, ok := scanString(b, i)
	if !ok {
		return i, false
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return skipWS(b, i+1), true
}

func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasStrSpecial reports whether one of the eight bytes in x is '"', '\\' or below 0x20
// (the classic exact "has zero byte" and "has byte less than" tests).
func hasStrSpecial(x uint64) bool {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(s-lsb)&^s|(x-lsb*0x20)&^x)&msb != 0
}

// scanString validates the string literal starting at b[i] == '"' and returns the index past
// its closing quote.
func scanString(b []byte, i int) (int, bool) {
	i++
	for {
		for len(b)-i >= 8 && !hasStrSpecial(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex4(b[i+2:i+6]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		default: // a control byte
			return i, false
		}
	}
}

var hexVal = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()

func isHex4(h []byte) bool {
	return hexVal[h[0]]|hexVal[h[1]]|hexVal[h[2]]|hexVal[h[3]] >= 0
}

func hex4(h []byte) rune {
	return rune(hexVal[h[0]])<<12 | rune(hexVal[h[1]])<<8 | rune(hexVal[h[2]])<<4 | rune(hexVal[h[3]])
}

func isDigit(c byte) bool { return c-'0' < 10 }

// scanNumber validates the number starting at b[i]: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		return i, false
	}
	if b[i] == '0' {
		i++
	} else {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true
}

// Compact appends src to dst without the whitespace between tokens, keeping everything else as
// written: numbers (1.0 stays 1.0), string escapes and key order. JSON.stringify output, which is
// what socket.io-client sends, is already compact, so the server forwards payloads untouched and
// needs Compact only for hand-written or foreign-client JSON. It returns ErrInvalidJSON and dst
// unchanged when src is not valid JSON. It does not allocate when dst has room for len(src).
func Compact(dst, src []byte) ([]byte, error) {
	if !Valid(src) {
		return dst, ErrInvalidJSON
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case isWS[c]:
			i++
		case c == '"':
			end, _ := scanString(src, i)
			dst = append(dst, src[i:end]...)
			i = end
		default:
			j := i + 1
			for j < len(src) && !isWS[src[j]] && src[j] != '"' {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
		}
	}
	return dst, nil
}
