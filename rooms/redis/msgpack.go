package redis

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/riptide-io/riptide/codec/sio"
)

// The Node adapter and emitter encode with notepack.io 3.0 (encode.js, decode.js). Its
// choices, which this file copies so that a riptide node writes the bytes a Node node writes:
//   - a number whose value is an integer (1, 1.0, 1e3) takes the smallest int form: positive
//     fixint, uint 8/16/32/64, negative fixint, int 8/16/32/64; any other number is a float 64;
//   - strings use fixstr, str 8, str 16, str 32; Buffers bin 8, 16, 32;
//   - object keys are written in JavaScript's property order: keys that are array indexes
//     ("0", "17") first in numeric order, then the others as inserted (JSON.parse order);
//     members whose value is undefined are left out.
// Decoding gives what JSON.stringify would print of notepack's result: integers and floats
// as JavaScript numbers, maps in property order (a repeated key keeps its first place and
// its last value, "__proto__" sets the prototype and disappears), timestamps as ISO
// strings, other extensions as [type, Buffer].

var (
	errMsgpack = errors.New("redis: malformed msgpack")
	errJSON    = errors.New("redis: malformed JSON")
)

// maxDepth bounds nesting in both directions (notepack has no limit; a hostile message
// must not blow the stack).
const maxDepth = 64

// Writers of msgpack items.

func mpArray(dst []byte, n int) []byte { return mpContainer(dst, n, 0x90, 0xdc) }

func mpMap(dst []byte, n int) []byte { return mpContainer(dst, n, 0x80, 0xde) }

// mpContainer writes an array or map header: the fix form for n < 16, else the 16-bit code
// or the 32-bit one right after it (0xdc/0xdd for arrays, 0xde/0xdf for maps).
func mpContainer(dst []byte, n int, fix, code16 byte) []byte {
	switch {
	case n < 16:
		return append(dst, fix|byte(n))
	case n < 1<<16:
		return append(dst, code16, byte(n>>8), byte(n))
	default:
		return append(dst, code16+1, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func mpStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n < 1<<8:
		return append(dst, 0xd9, byte(n))
	case n < 1<<16:
		return append(dst, 0xda, byte(n>>8), byte(n))
	default:
		return append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func mpStr(dst []byte, s string) []byte { return append(mpStrHeader(dst, len(s)), s...) }

func mpStrBytes(dst []byte, s []byte) []byte { return append(mpStrHeader(dst, len(s)), s...) }

func mpBin(dst []byte, b []byte) []byte {
	n := len(b)
	switch {
	case n < 1<<8:
		dst = append(dst, 0xc4, byte(n))
	case n < 1<<16:
		dst = append(dst, 0xc5, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, b...)
}

func mpBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 0xc3)
	}
	return append(dst, 0xc2)
}

func mpNil(dst []byte) []byte { return append(dst, 0xc0) }

// mpNumber writes the JavaScript number v as notepack does.
func mpNumber(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Trunc(v) != v {
		dst = append(dst, 0xcb)
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
	}
	if v >= 0 { // -0 too: -0 >= 0 in JavaScript, and it is written as 0
		switch {
		case v < 0x80:
			return append(dst, byte(v))
		case v < 0x100:
			return append(dst, 0xcc, byte(v))
		case v < 0x10000:
			return append(dst, 0xcd, byte(uint16(v)>>8), byte(uint16(v)))
		case v < 0x100000000:
			return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
		}
		// notepack: hi = (value / 2^32) >> 0, lo = value >>> 0 (exact below 2^64).
		dst = binary.BigEndian.AppendUint32(append(dst, 0xcf), toUint32(v/4294967296))
		return binary.BigEndian.AppendUint32(dst, toUint32(v))
	}
	switch {
	case v >= -0x20:
		return append(dst, byte(int8(v)))
	case v >= -0x80:
		return append(dst, 0xd0, byte(int8(v)))
	case v >= -0x8000:
		return append(dst, 0xd1, byte(uint16(int16(v))>>8), byte(int16(v)))
	case v >= -0x80000000:
		return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(int32(v)))
	}
	// notepack: hi = Math.floor(value / 2^32), lo = value >>> 0.
	dst = binary.BigEndian.AppendUint32(append(dst, 0xd3), toUint32(math.Floor(v/4294967296)))
	return binary.BigEndian.AppendUint32(dst, toUint32(v))
}

// toUint32 is ECMAScript's ToUint32 (the bytes of ToInt32 are the same).
func toUint32(x float64) uint32 {
	m := math.Mod(math.Trunc(x), 4294967296)
	if m < 0 {
		m += 4294967296
	}
	return uint32(m)
}

// arrayIndex reports whether key is an array index in JavaScript's sense (a canonical
// decimal below 2^32-1), which orders it before the other keys of an object.
func arrayIndex(key []byte) (uint32, bool) {
	if len(key) == 0 || len(key) > 10 || key[0] == '0' && len(key) > 1 {
		return 0, false
	}
	var n uint64
	for _, c := range key {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// member is one object member during reordering: its key and where its value starts.
type member struct {
	key   []byte
	val   int
	index uint32
	isIdx bool
}

// jsOrder turns members as written into JavaScript property order: a repeated key keeps its
// first place and takes its last value; array-index keys move to the front, in numeric
// order. It works in place and returns the kept members.
func jsOrder(ms []member) []member {
	out := ms[:0]
	anyIdx := false
	for _, m := range ms {
		dup := -1
		for j := range out {
			if string(out[j].key) == string(m.key) {
				dup = j
				break
			}
		}
		if dup >= 0 {
			out[dup].val = m.val
			continue
		}
		m.index, m.isIdx = arrayIndex(m.key)
		anyIdx = anyIdx || m.isIdx
		out = append(out, m)
	}
	if anyIdx {
		slices.SortStableFunc(out, func(a, b member) int {
			switch {
			case a.isIdx && b.isIdx:
				return int(int64(a.index) - int64(b.index))
			case a.isIdx:
				return -1
			case b.isIdx:
				return 1
			}
			return 0
		})
	}
	return out
}

// JSON to msgpack.

// jsonToMsgpack appends the msgpack form of the JSON value js (surrounding whitespace
// allowed) as notepack would write JSON.parse(js). Placeholders that name one of atts are
// written as that attachment (bin), as socket.io-parser's reconstructed Buffers would be.
func jsonToMsgpack(dst, js []byte, atts [][]byte) ([]byte, error) {
	var e jsonEncoder
	e.atts = atts
	i := skipWS(js, 0)
	dst, end, err := e.value(dst, js, i, 0)
	if err != nil {
		return dst, err
	}
	if skipWS(js, end) != len(js) {
		return dst, errJSON
	}
	return dst, nil
}

type jsonEncoder struct {
	atts    [][]byte
	scratch []byte
}

func (e *jsonEncoder) value(dst, b []byte, i, depth int) ([]byte, int, error) {
	if i >= len(b) || depth > maxDepth {
		return dst, i, errJSON
	}
	switch c := b[i]; {
	case c == '{':
		end, err := skipJSON(b, i, depth)
		if err != nil {
			return dst, i, err
		}
		if len(e.atts) > 0 {
			if num, ok := sio.Placeholder(b[i:end]); ok && num < len(e.atts) {
				return mpBin(dst, e.atts[num]), end, nil
			}
		}
		return e.object(dst, b, i, end, depth)
	case c == '[':
		return e.array(dst, b, i, depth)
	case c == '"':
		end, err := skipString(b, i)
		if err != nil {
			return dst, i, err
		}
		s, err := sio.AppendUnquote(e.scratch[:0], b[i:end])
		if err != nil {
			return dst, i, errJSON
		}
		e.scratch = s[:0]
		return mpStrBytes(dst, s), end, nil
	case c == 't' && hasPrefix(b[i:], "true"):
		return mpBool(dst, true), i + 4, nil
	case c == 'f' && hasPrefix(b[i:], "false"):
		return mpBool(dst, false), i + 5, nil
	case c == 'n' && hasPrefix(b[i:], "null"):
		return mpNil(dst), i + 4, nil
	case c == '-' || c >= '0' && c <= '9':
		end, err := skipNumber(b, i)
		if err != nil {
			return dst, i, err
		}
		f, err := strconv.ParseFloat(string(b[i:end]), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return dst, i, errJSON
		}
		return mpNumber(dst, f), end, nil
	}
	return dst, i, errJSON
}

func (e *jsonEncoder) array(dst, b []byte, i, depth int) ([]byte, int, error) {
	var starts [16]int
	elems := starts[:0]
	j := skipWS(b, i+1)
	if j < len(b) && b[j] == ']' {
		return mpArray(dst, 0), j + 1, nil
	}
	for {
		elems = append(elems, j)
		end, err := skipJSON(b, j, depth+1)
		if err != nil {
			return dst, i, err
		}
		j = skipWS(b, end)
		if j >= len(b) {
			return dst, i, errJSON
		}
		if b[j] == ']' {
			break
		}
		if b[j] != ',' {
			return dst, i, errJSON
		}
		j = skipWS(b, j+1)
	}
	dst = mpArray(dst, len(elems))
	for _, s := range elems {
		var err error
		if dst, _, err = e.value(dst, b, s, depth+1); err != nil {
			return dst, i, err
		}
	}
	return dst, j + 1, nil
}

func (e *jsonEncoder) object(dst, b []byte, i, end, depth int) ([]byte, int, error) {
	var buf [8]member
	ms := buf[:0]
	j := skipWS(b, i+1)
	if j < len(b) && b[j] == '}' {
		return mpMap(dst, 0), end, nil
	}
	for {
		kend, err := skipString(b, j)
		if err != nil {
			return dst, i, err
		}
		key, err := sio.Unquote(nil, b[j:kend])
		if err != nil {
			return dst, i, errJSON
		}
		j = skipWS(b, kend)
		if j >= len(b) || b[j] != ':' {
			return dst, i, errJSON
		}
		j = skipWS(b, j+1)
		ms = append(ms, member{key: key, val: j})
		vend, err := skipJSON(b, j, depth+1)
		if err != nil {
			return dst, i, err
		}
		j = skipWS(b, vend)
		if j >= len(b) {
			return dst, i, errJSON
		}
		if b[j] == '}' {
			break
		}
		if b[j] != ',' {
			return dst, i, errJSON
		}
		j = skipWS(b, j+1)
	}
	ms = jsOrder(ms)
	dst = mpMap(dst, len(ms))
	for _, m := range ms {
		dst = mpStrBytes(dst, m.key)
		var err error
		if dst, _, err = e.value(dst, b, m.val, depth+1); err != nil {
			return dst, i, err
		}
	}
	return dst, end, nil
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipJSON returns the index after the JSON value starting at b[i], checking its syntax.
func skipJSON(b []byte, i, depth int) (int, error) {
	if i >= len(b) || depth > maxDepth {
		return i, errJSON
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		j := skipWS(b, i+1)
		if j < len(b) && b[j] == closer {
			return j + 1, nil
		}
		for {
			if c == '{' {
				kend, err := skipString(b, j)
				if err != nil {
					return i, err
				}
				j = skipWS(b, kend)
				if j >= len(b) || b[j] != ':' {
					return i, errJSON
				}
				j = skipWS(b, j+1)
			}
			end, err := skipJSON(b, j, depth+1)
			if err != nil {
				return i, err
			}
			j = skipWS(b, end)
			if j >= len(b) {
				return i, errJSON
			}
			if b[j] == closer {
				return j + 1, nil
			}
			if b[j] != ',' {
				return i, errJSON
			}
			j = skipWS(b, j+1)
		}
	case c == 't' && hasPrefix(b[i:], "true"):
		return i + 4, nil
	case c == 'f' && hasPrefix(b[i:], "false"):
		return i + 5, nil
	case c == 'n' && hasPrefix(b[i:], "null"):
		return i + 4, nil
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	}
	return i, errJSON
}

func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return i, errJSON
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
			if j >= len(b) {
				return i, errJSON
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return i, errJSON
				}
				for _, h := range b[j+1 : j+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return i, errJSON
					}
				}
				j += 4
			default:
				return i, errJSON
			}
		case c < 0x20:
			return i, errJSON
		}
	}
	return i, errJSON
}

func skipNumber(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j >= len(b) {
		return i, errJSON
	}
	if b[j] == '0' {
		j++
	} else if b[j] >= '1' && b[j] <= '9' {
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	} else {
		return i, errJSON
	}
	if j < len(b) && b[j] == '.' {
		j++
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return i, errJSON
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return i, errJSON
		}
	}
	return j, nil
}

// Msgpack to JSON.

// msgpackToJSON appends the JSON.stringify form of the one msgpack value in b (nothing may
// follow it). Binary values become placeholders {"_placeholder":true,"num":N} numbered in
// order from len(atts) on, and are appended to atts; they alias b (with capped capacity).
func msgpackToJSON(dst, b []byte, atts [][]byte) ([]byte, [][]byte, error) {
	d := mpDecoder{b: b, atts: atts}
	dst, end, undef, err := d.value(dst, 0, 0)
	if err != nil {
		return dst, d.atts, err
	}
	if end != len(b) {
		return dst, d.atts, errMsgpack
	}
	if undef {
		dst = append(dst, "null"...)
	}
	return dst, d.atts, nil
}

type mpDecoder struct {
	b    []byte
	atts [][]byte
}

// need returns b[i:i+n] or an error.
func (d *mpDecoder) need(i, n int) ([]byte, error) {
	if n < 0 || i+n > len(d.b) || i+n < i {
		return nil, errMsgpack
	}
	return d.b[i : i+n : i+n], nil
}

// header reads the item at i: its kind, its length or value, and where its body starts.
type mpKind uint8

const (
	mpKNil mpKind = iota
	mpKBool
	mpKNumber
	mpKStr
	mpKBin
	mpKArray
	mpKMap
	mpKExt
	mpKUndefined // notepack's fixext 1 type 0
)

type mpItem struct {
	kind  mpKind
	n     int     // length for str, bin, array, map, ext
	num   float64 // numbers
	bool  bool
	ext   int8
	fixed bool // fixext (0xd4-0xd8) rather than ext 8/16/32
	start int  // where the body starts
}

func (d *mpDecoder) head(i int) (mpItem, error) {
	if i >= len(d.b) {
		return mpItem{}, errMsgpack
	}
	c := d.b[i]
	i++
	switch {
	case c < 0x80:
		return mpItem{kind: mpKNumber, num: float64(c), start: i}, nil
	case c < 0x90:
		return mpItem{kind: mpKMap, n: int(c & 0x0f), start: i}, nil
	case c < 0xa0:
		return mpItem{kind: mpKArray, n: int(c & 0x0f), start: i}, nil
	case c < 0xc0:
		return mpItem{kind: mpKStr, n: int(c & 0x1f), start: i}, nil
	case c >= 0xe0:
		return mpItem{kind: mpKNumber, num: float64(int8(c)), start: i}, nil
	}
	size := func(n int) (uint64, error) {
		p, err := d.need(i, n)
		if err != nil {
			return 0, err
		}
		var v uint64
		for _, x := range p {
			v = v<<8 | uint64(x)
		}
		i += n
		return v, nil
	}
	sized := func(kind mpKind, n int) (mpItem, error) {
		v, err := size(n)
		if err != nil {
			return mpItem{}, err
		}
		if v > uint64(len(d.b)) { // every element takes at least one byte
			return mpItem{}, errMsgpack
		}
		return mpItem{kind: kind, n: int(v), start: i}, nil
	}
	number := func(n int, signed, float bool) (mpItem, error) {
		v, err := size(n)
		if err != nil {
			return mpItem{}, err
		}
		var f float64
		switch {
		case float && n == 4:
			f = float64(math.Float32frombits(uint32(v)))
		case float:
			f = math.Float64frombits(v)
		case signed:
			f = float64(int64(v<<(64-8*n)) >> (64 - 8*n))
		default:
			f = float64(v)
		}
		return mpItem{kind: mpKNumber, num: f, start: i}, nil
	}
	ext := func(lenBytes, fixed int) (mpItem, error) {
		n := fixed
		if lenBytes > 0 {
			v, err := size(lenBytes)
			if err != nil {
				return mpItem{}, err
			}
			n = int(v)
		}
		t, err := d.need(i, 1)
		if err != nil {
			return mpItem{}, err
		}
		i++
		if n > len(d.b) {
			return mpItem{}, errMsgpack
		}
		if fixed == 1 && int8(t[0]) == 0 {
			return mpItem{kind: mpKUndefined, n: 1, start: i}, nil
		}
		return mpItem{kind: mpKExt, n: n, ext: int8(t[0]), fixed: fixed > 0, start: i}, nil
	}
	switch c {
	case 0xc0:
		return mpItem{kind: mpKNil, start: i}, nil
	case 0xc2, 0xc3:
		return mpItem{kind: mpKBool, bool: c == 0xc3, start: i}, nil
	case 0xc4:
		return sized(mpKBin, 1)
	case 0xc5:
		return sized(mpKBin, 2)
	case 0xc6:
		return sized(mpKBin, 4)
	case 0xc7:
		return ext(1, 0)
	case 0xc8:
		return ext(2, 0)
	case 0xc9:
		return ext(4, 0)
	case 0xca:
		return number(4, false, true)
	case 0xcb:
		return number(8, false, true)
	case 0xcc:
		return number(1, false, false)
	case 0xcd:
		return number(2, false, false)
	case 0xce:
		return number(4, false, false)
	case 0xcf:
		return number(8, false, false)
	case 0xd0:
		return number(1, true, false)
	case 0xd1:
		return number(2, true, false)
	case 0xd2:
		return number(4, true, false)
	case 0xd3:
		return number(8, true, false)
	case 0xd4:
		return ext(0, 1)
	case 0xd5:
		return ext(0, 2)
	case 0xd6:
		return ext(0, 4)
	case 0xd7:
		return ext(0, 8)
	case 0xd8:
		return ext(0, 16)
	case 0xd9:
		return sized(mpKStr, 1)
	case 0xda:
		return sized(mpKStr, 2)
	case 0xdb:
		return sized(mpKStr, 4)
	case 0xdc:
		return sized(mpKArray, 2)
	case 0xdd:
		return sized(mpKArray, 4)
	case 0xde:
		return sized(mpKMap, 2)
	case 0xdf:
		return sized(mpKMap, 4)
	}
	return mpItem{}, errMsgpack // 0xc1 is never used
}

// skip returns the index after the item at i.
func (d *mpDecoder) skip(i, depth int) (int, error) {
	if depth > maxDepth {
		return i, errMsgpack
	}
	it, err := d.head(i)
	if err != nil {
		return i, err
	}
	switch it.kind {
	case mpKStr, mpKBin, mpKExt, mpKUndefined:
		if _, err := d.need(it.start, it.n); err != nil {
			return i, err
		}
		return it.start + it.n, nil
	case mpKArray, mpKMap:
		n := it.n
		if it.kind == mpKMap {
			n *= 2
		}
		j := it.start
		for k := 0; k < n; k++ {
			if j, err = d.skip(j, depth+1); err != nil {
				return i, err
			}
		}
		return j, nil
	}
	return it.start, nil
}

// value appends the JSON of the item at i. undef reports notepack's undefined, which the
// caller writes as null in an array and leaves out of an object.
func (d *mpDecoder) value(dst []byte, i, depth int) (out []byte, end int, undef bool, err error) {
	if depth > maxDepth {
		return dst, i, false, errMsgpack
	}
	it, err := d.head(i)
	if err != nil {
		return dst, i, false, err
	}
	switch it.kind {
	case mpKNil:
		return append(dst, "null"...), it.start, false, nil
	case mpKBool:
		if it.bool {
			return append(dst, "true"...), it.start, false, nil
		}
		return append(dst, "false"...), it.start, false, nil
	case mpKNumber:
		return sio.AppendNumber(dst, it.num), it.start, false, nil
	case mpKStr:
		s, err := d.need(it.start, it.n)
		if err != nil {
			return dst, i, false, err
		}
		return sio.AppendQuote(dst, bytesToString(s)), it.start + it.n, false, nil
	case mpKBin:
		s, err := d.need(it.start, it.n)
		if err != nil {
			return dst, i, false, err
		}
		dst = sio.AppendPlaceholder(dst, len(d.atts))
		d.atts = append(d.atts, s)
		return dst, it.start + it.n, false, nil
	case mpKUndefined:
		return dst, it.start + it.n, true, nil
	case mpKExt:
		s, err := d.need(it.start, it.n)
		if err != nil {
			return dst, i, false, err
		}
		end := it.start + it.n
		switch {
		case it.ext == -1 && (it.fixed && (it.n == 4 || it.n == 8) || !it.fixed && it.n == 12 && i < len(d.b) && d.b[i] == 0xc7):
			t, _ := timestamp(s)
			return appendISODate(dst, t), end, false, nil
		case it.ext == 0 && it.fixed && it.n == 8: // notepack's old Date encoding: milliseconds
			ms := float64(int32(binary.BigEndian.Uint32(s)))*4294967296 + float64(binary.BigEndian.Uint32(s[4:]))
			return appendISODate(dst, time.UnixMilli(int64(ms))), end, false, nil
		case it.ext == 0 && !it.fixed: // notepack's old ArrayBuffer encoding
			dst = sio.AppendPlaceholder(dst, len(d.atts))
			d.atts = append(d.atts, s)
			return dst, end, false, nil
		}
		dst = append(dst, '[')
		dst = strconv.AppendInt(dst, int64(it.ext), 10)
		dst = append(dst, ',')
		dst = sio.AppendPlaceholder(dst, len(d.atts))
		d.atts = append(d.atts, s)
		return append(dst, ']'), end, false, nil
	case mpKArray:
		dst = append(dst, '[')
		j := it.start
		for k := 0; k < it.n; k++ {
			if k > 0 {
				dst = append(dst, ',')
			}
			var u bool
			if dst, j, u, err = d.value(dst, j, depth+1); err != nil {
				return dst, i, false, err
			}
			if u {
				dst = append(dst, "null"...)
			}
		}
		return append(dst, ']'), j, false, nil
	case mpKMap:
		return d.object(dst, it, depth)
	}
	return dst, i, false, errMsgpack
}

func (d *mpDecoder) object(dst []byte, it mpItem, depth int) ([]byte, int, bool, error) {
	var buf [8]member
	ms := buf[:0]
	j := it.start
	for k := 0; k < it.n; k++ {
		key, next, err := d.key(j, depth+1)
		if err != nil {
			return dst, j, false, err
		}
		vend, err := d.skip(next, depth+1)
		if err != nil {
			return dst, j, false, err
		}
		if string(key) != "__proto__" { // value[key] = ... sets the prototype instead
			ms = append(ms, member{key: key, val: next})
		}
		j = vend
	}
	ms = jsOrder(ms)
	dst = append(dst, '{')
	first := true
	for _, m := range ms {
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = sio.AppendQuote(dst, bytesToString(m.key))
		dst = append(dst, ':')
		var u bool
		var err error
		if dst, _, u, err = d.value(dst, m.val, depth+1); err != nil {
			return dst, j, false, err
		}
		if u { // JSON.stringify leaves out undefined members
			dst = dst[:mark]
			continue
		}
		first = false
	}
	return append(dst, '}'), j, false, nil
}

// key reads a map key as JavaScript turns it into a property name.
func (d *mpDecoder) key(i, depth int) ([]byte, int, error) {
	it, err := d.head(i)
	if err != nil {
		return nil, i, err
	}
	switch it.kind {
	case mpKStr, mpKBin:
		s, err := d.need(it.start, it.n)
		if err != nil {
			return nil, i, err
		}
		if it.kind == mpKBin || !utf8.Valid(s) {
			// Buffer keys become their UTF-8 text; bad bytes become U+FFFD either way.
			var out []byte
			for len(s) > 0 {
				r, n := utf8.DecodeRune(s)
				out = utf8.AppendRune(out, r)
				s = s[n:]
			}
			return out, it.start + it.n, nil
		}
		return s, it.start + it.n, nil
	case mpKNumber:
		return sio.AppendNumber(nil, it.num), it.start, nil
	case mpKNil:
		return []byte("null"), it.start, nil
	case mpKBool:
		if it.bool {
			return []byte("true"), it.start, nil
		}
		return []byte("false"), it.start, nil
	case mpKUndefined:
		return []byte("undefined"), it.start + it.n, nil
	}
	return nil, i, errMsgpack // arrays, maps and extensions as keys: no one writes them
}

// timestamp decodes the msgpack timestamp extension (type -1) as notepack does.
func timestamp(s []byte) (time.Time, bool) {
	switch len(s) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(s)), 0), true
	case 8:
		hi := binary.BigEndian.Uint32(s)
		lo := binary.BigEndian.Uint32(s[4:])
		sec := int64(hi&3)<<32 | int64(lo)
		ns := int64(hi >> 2)
		return time.Unix(sec, 0).Add(time.Duration(ns/1e6) * time.Millisecond), true
	case 12:
		ns := binary.BigEndian.Uint32(s)
		sec := int64(binary.BigEndian.Uint64(s[4:]))
		return time.Unix(sec, 0).Add(time.Duration(ns/1e6) * time.Millisecond), true
	}
	return time.Time{}, false
}

// appendISODate writes a Date as JSON.stringify does (toISOString, in quotes).
func appendISODate(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return append(dst, "null"...) // expanded years: no one sends them
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	return append(dst, '"')
}
