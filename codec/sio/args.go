package sio

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// maxArgsDepth bounds the []any / map[string]any nesting AppendArgs walks, so a slice that
// contains itself fails instead of recursing forever (encoding/json stops cycles similarly).
const maxArgsDepth = 1000

// AppendArgs appends args as a JSON array to dst, socket.io-parser style: each []byte becomes an
// attachment placeholder, numbered from len(atts), and is appended to atts (by reference, not
// copied; the caller keeps it unchanged until the attachments are written). A non-empty atts
// result beyond its input length makes the packet a BINARY_EVENT or BINARY_ACK.
//
// Values are written as JSON.stringify would write their JavaScript counterparts:
//   - nil, string, bool, all int and uint kinds, float32 and float64 without reflection
//     (floats as encoding/json and JavaScript format them; NaN and ±Inf as null, -0 as 0);
//   - json.RawMessage as is (not compacted or validated; empty means null);
//   - []byte (nil included: an empty attachment) as a placeholder, also inside [][]byte, []any
//     and map[string]any, which are walked (map keys sorted, as encoding/json sorts them);
//   - anything else through encoding/json with HTML escaping off. That path allocates, and it
//     does not look for binary: a []byte inside a struct is written as a base64 string, as
//     encoding/json does.
//
// On error, dst and atts are returned as they were. With only fast-path values it does not
// allocate when dst and atts have room.
func AppendArgs(dst []byte, atts [][]byte, args ...any) ([]byte, [][]byte, error) {
	d0, a0 := len(dst), len(atts)
	dst = append(dst, '[')
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, atts, err = appendValue(dst, atts, a, 0); err != nil {
			return dst[:d0], atts[:a0], err
		}
	}
	return append(dst, ']'), atts, nil
}

func appendValue(dst []byte, atts [][]byte, v any, depth int) ([]byte, [][]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), atts, nil
	case string:
		return AppendQuote(dst, v), atts, nil
	case bool:
		return strconv.AppendBool(dst, v), atts, nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case int8:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case int64:
		return strconv.AppendInt(dst, v, 10), atts, nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint8:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), atts, nil
	case float64:
		return appendFloat(dst, v, 64), atts, nil
	case float32:
		return appendFloat(dst, float64(v), 32), atts, nil
	case json.RawMessage:
		if len(v) == 0 {
			return append(dst, "null"...), atts, nil
		}
		return append(dst, v...), atts, nil
	case []byte:
		dst = AppendPlaceholder(dst, len(atts))
		return dst, append(atts, v), nil
	}
	if depth >= maxArgsDepth {
		return dst, atts, ErrTooDeep
	}
	switch v := v.(type) {
	case [][]byte:
		dst = append(dst, '[')
		for i, b := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendPlaceholder(dst, len(atts))
			atts = append(atts, b)
		}
		return append(dst, ']'), atts, nil
	case []any:
		if v == nil {
			return append(dst, "null"...), atts, nil
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, atts, err = appendValue(dst, atts, e, depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, ']'), atts, nil
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), atts, nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendQuote(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, atts, err = appendValue(dst, atts, v[k], depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	}
	return appendJSON(dst, atts, v)
}

// appendJSON is the reflection path. HTML escaping is off because JSON.stringify does not
// escape '<', '>' and '&', and clients compare strings (PROTOCOL-NOTES 8).
func appendJSON(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	n := len(dst)
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst[:n], atts, err
	}
	out := buf.Bytes()
	return out[:len(out)-1], atts, nil // Encode adds a newline
}

// appendFloat formats f like encoding/json (which follows ECMAScript's Number::toString):
// shortest representation, exponent form below 1e-6 and from 1e21 on, with JavaScript's
// exponent spelling. NaN and infinities become null and -0 becomes 0, as JSON.stringify does.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	format := byte('f')
	abs := math.Abs(f)
	if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
		bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
