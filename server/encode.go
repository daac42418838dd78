package server

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/riptide-io/riptide/codec/sio"
)

// appendArgs appends args as elements of a JSON array being built in dst (without the
// brackets; a leading comma is written before each element when needed), moving []byte
// values anywhere inside map[string]any and []any into attachments, and splicing Args as is
// (their placeholders renumbered after the attachments already collected).
func appendArgs(dst []byte, atts [][]byte, first bool, args []any) ([]byte, [][]byte, error) {
	var err error
	for _, a := range args {
		if spread, ok := a.(Args); ok && len(args) == 1 {
			// The only argument: its elements become the arguments (echo without re-encoding).
			it := sio.NewArrayIter(spread.JSON())
			for v, ok := it.Next(); ok; v, ok = it.Next() {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendRenumbered(dst, v, len(atts))
			}
			atts = append(atts, spread.atts...)
			return dst, atts, it.Err()
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst, atts, err = appendValue(dst, atts, a)
		if err != nil {
			return dst, atts, err
		}
	}
	return dst, atts, nil
}

// appendValue appends one Go value as JSON; fast paths avoid reflection for the common
// kinds, binary becomes placeholders.
func appendValue(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), atts, nil
	case string:
		return sio.AppendQuote(dst, x), atts, nil
	case bool:
		return strconv.AppendBool(dst, x), atts, nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), atts, nil
	case int64:
		return strconv.AppendInt(dst, x, 10), atts, nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), atts, nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), atts, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return append(dst, "null"...), atts, nil // JSON.stringify's answer
		}
		return strconv.AppendFloat(dst, x, 'f', -1, 64), atts, nil
	case []byte:
		dst = sio.AppendPlaceholder(dst, len(atts))
		return dst, append(atts, x), nil
	case json.RawMessage:
		return append(dst, x...), atts, nil
	case Args:
		dst = append(dst, '[')
		dst, atts, err := appendArgs(dst, atts, true, []any{x})
		return append(dst, ']'), atts, err
	case []any:
		dst = append(dst, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, atts, err = appendValue(dst, atts, e); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, ']'), atts, nil
	case map[string]any:
		dst = append(dst, '{')
		var err error
		i := 0
		for _, k := range sortedKeys(x) {
			if i > 0 {
				dst = append(dst, ',')
			}
			i++
			dst = sio.AppendQuote(dst, k)
			dst = append(dst, ':')
			if dst, atts, err = appendValue(dst, atts, x[k]); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	case Object:
		dst = append(dst, '{')
		var err error
		for i, f := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = sio.AppendQuote(dst, f.Key)
			dst = append(dst, ':')
			if dst, atts, err = appendValue(dst, atts, f.Value); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, atts, err
	}
	return append(dst, b...), atts, nil
}

// Object is a JSON object whose keys keep their order (a Go map sorts them). Values may hold
// binary ([]byte) and Args.
type Object []Field

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// appendRenumbered copies the JSON value v, adding offset to the num of every placeholder.
func appendRenumbered(dst, v []byte, offset int) []byte {
	if offset == 0 {
		return append(dst, v...)
	}
	if n, ok := sio.Placeholder(v); ok {
		return sio.AppendPlaceholder(dst, n+offset)
	}
	switch v[0] {
	case '[':
		dst = append(dst, '[')
		it := sio.NewArrayIter(v)
		first := true
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendRenumbered(dst, e, offset)
		}
		return append(dst, ']')
	case '{':
		dst = append(dst, '{')
		it := newObjectIter(v)
		first := true
		for k, e, ok := it.Next(); ok; k, e, ok = it.Next() {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, k...)
			dst = append(dst, ':')
			dst = appendRenumbered(dst, e, offset)
		}
		return append(dst, '}')
	}
	return append(dst, v...)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
