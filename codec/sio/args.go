package sio

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxValueDepth bounds the containers one value may open inside one another. A value is an
// element of an arguments array, and the decoder accepts maxDepth levels (encoding/json's
// limit) for the whole array: so everything the encoder writes decodes again, a payload that
// was decoded (Args.Values, say) can be sent back, and a value that contains itself fails with
// ErrTooDeep after that many levels instead of exhausting the stack.
const maxValueDepth = maxDepth - 1

// Object is a JSON object whose members keep the order they are given in (a Go map's keys are
// sorted). Values may be anything AppendValue takes, binary included. A nil Object is {}.
type Object []Field

// Field is one member of an Object.
type Field struct {
	Key   string
	Value any
}

// Appender is implemented by values that write their own JSON, placeholders included:
// AppendJSON appends the value to dst and its attachments to atts, numbering its placeholders
// from len(atts) on, and returns both. On error it may leave dst and atts grown; AppendValue
// cuts them back. The server's raw event arguments implement it, so a received payload nested
// in a new one is copied rather than re-encoded. A nil pointer is written as null without a
// call. The depth limit does not reach into an Appender: one that writes Go values of its own
// with AppendValue starts a new count, and must not contain itself.
type Appender interface {
	AppendJSON(dst []byte, atts [][]byte) ([]byte, [][]byte, error)
}

// AppendArgs appends args as a JSON array to dst, socket.io-parser style: see AppendValue for
// how each argument is written. A non-empty atts result beyond its input length makes the packet
// a BINARY_EVENT or BINARY_ACK. On error, dst and atts are returned as they were.
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

// AppendValue appends v as JSON to dst. Each []byte becomes an attachment placeholder, numbered
// from len(atts), and is appended to atts (by reference, not copied; the caller keeps it
// unchanged until the attachments are written).
//
// Values are written as JSON.stringify would write their JavaScript counterparts:
//   - nil, string, bool, all int, uint and float kinds, also as named types (type Score
//     float64): numbers with AppendNumber (NaN and ±Inf as null, -0 as 0); float32 with its own
//     shortest digits;
//   - json.RawMessage as is (not compacted or validated; empty means null), json.Number as the
//     number it holds (checked; empty means 0);
//   - []byte (nil included: an empty attachment) as a placeholder, wherever it appears outside
//     a struct;
//   - an Appender by its AppendJSON method;
//   - slices and arrays as arrays, a nil slice as null; Object as an object in its order; maps
//     with string keys as objects with their keys sorted (as encoding/json sorts them), a nil map
//     as null; pointers and interfaces as what they point to, nil as null;
//   - structs, maps with other keys, types with a MarshalJSON or MarshalText method, and
//     named []byte types through encoding/json with HTML escaping off. That path allocates and
//     writes the struct whole: a []byte field becomes a base64 string, a float field follows
//     encoding/json (-0 as -0, NaN an error) and a cycle of pointers is reported as ErrTooDeep.
//
// A value nested deeper than 9999 containers (the decoder's limit less the arguments array)
// fails with ErrTooDeep, so does one that contains itself. On error, dst and atts are
// returned as they were. It does not allocate when dst and atts have room, except on the
// encoding/json path, for maps other than map[string]any (reflection copies their keys and
// values) and for the sorted keys of a map[string]any with more than 16 of them.
func AppendValue(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	d0, a0 := len(dst), len(atts)
	dst, atts, err := appendValue(dst, atts, v, 0)
	if err != nil {
		return dst[:d0], atts[:a0], err
	}
	return dst, atts, nil
}

// appendValue writes v, which sits inside depth containers. It may leave dst and atts grown on
// error; the exported callers cut them back.
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
	case int64:
		return strconv.AppendInt(dst, v, 10), atts, nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case int8:
		return strconv.AppendInt(dst, int64(v), 10), atts, nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), atts, nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case uint8:
		return strconv.AppendUint(dst, uint64(v), 10), atts, nil
	case float64:
		return AppendNumber(dst, v), atts, nil
	case float32:
		return appendFloat(dst, float64(v), 32), atts, nil
	case json.Number:
		return appendNumberLiteral(dst, atts, v)
	case json.RawMessage:
		if len(v) == 0 {
			return append(dst, "null"...), atts, nil
		}
		return append(dst, v...), atts, nil
	case []byte:
		dst = AppendPlaceholder(dst, len(atts))
		return dst, append(atts, v), nil
	case Appender:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(dst, "null"...), atts, nil // as encoding/json treats a nil Marshaler
		}
		return v.AppendJSON(dst, atts)
	}
	if depth >= maxValueDepth {
		return dst, atts, ErrTooDeep
	}
	var err error
	switch v := v.(type) {
	case []any:
		if v == nil {
			return append(dst, "null"...), atts, nil
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, atts, err = appendValue(dst, atts, e, depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, ']'), atts, nil
	case Object:
		dst = append(dst, '{')
		for i, f := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(AppendQuote(dst, f.Key), ':')
			if dst, atts, err = appendValue(dst, atts, f.Value, depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), atts, nil
		}
		var buf [16]string
		keys := buf[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(AppendQuote(dst, k), ':')
			if dst, atts, err = appendValue(dst, atts, v[k], depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	}
	return appendReflect(dst, atts, reflect.ValueOf(v), depth)
}

var (
	appenderType      = reflect.TypeFor[Appender]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	bytesType         = reflect.TypeFor[[]byte]()
	numberType        = reflect.TypeFor[json.Number]()
)

// appendNumberLiteral writes a json.Number as the number it holds, as encoding/json does ("" is
// 0): Args.Values decodes numbers into json.Number, and sending them back must not turn them
// into strings.
func appendNumberLiteral(dst []byte, atts [][]byte, n json.Number) ([]byte, [][]byte, error) {
	if n == "" {
		return append(dst, '0'), atts, nil
	}
	d0 := len(dst)
	dst = append(dst, n...)
	if end, ok := scanNumber(dst, d0); !ok || end != len(dst) {
		return dst[:d0], atts, fmt.Errorf("sio: invalid number literal %q", string(n))
	}
	return dst, atts, nil
}

// ownJSON reports whether values of t choose their own JSON (a MarshalJSON or MarshalText
// method, which encoding/json also finds on *t for addressable values).
func ownJSON(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		pt.Implements(marshalerType) || pt.Implements(textMarshalerType)
}

// appendReflect writes the kinds the type switch does not know by name; v sits inside depth
// containers (fewer than maxValueDepth).
func appendReflect(dst []byte, atts [][]byte, v reflect.Value, depth int) ([]byte, [][]byte, error) {
	if !v.IsValid() {
		return append(dst, "null"...), atts, nil
	}
	t := v.Type()
	if k := v.Kind(); (k == reflect.Pointer || k == reflect.Interface) && v.IsNil() {
		return append(dst, "null"...), atts, nil // not asked to write itself, as in encoding/json
	}
	if t == numberType {
		return appendNumberLiteral(dst, atts, json.Number(v.String()))
	}
	if t.Implements(appenderType) && v.CanInterface() {
		return v.Interface().(Appender).AppendJSON(dst, atts)
	}
	if v.Kind() == reflect.Struct || ownJSON(t) {
		return appendJSON(dst, atts, v) // encoding/json finds the methods of a struct itself
	}
	switch v.Kind() {
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), atts, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10), atts, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, v.Uint(), 10), atts, nil
	case reflect.Float32:
		return appendFloat(dst, v.Float(), 32), atts, nil
	case reflect.Float64:
		return AppendNumber(dst, v.Float()), atts, nil
	case reflect.String:
		return AppendQuote(dst, v.String()), atts, nil
	case reflect.Interface, reflect.Pointer:
		if v.Kind() == reflect.Interface {
			return appendReflectIn(dst, atts, v.Elem(), depth)
		}
		// A pointer is not a container in the output, but a cycle of them is one in the
		// input: count it so that the walk ends.
		return appendReflectIn(dst, atts, v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...), atts, nil
		}
		if t == bytesType {
			dst = AppendPlaceholder(dst, len(atts))
			return dst, append(atts, v.Bytes()), nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return appendJSON(dst, atts, v) // a named []byte: base64, as encoding/json writes it
		}
		fallthrough
	case reflect.Array:
		var err error
		dst = append(dst, '[')
		for i := range v.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, atts, err = appendReflectIn(dst, atts, v.Index(i), depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, ']'), atts, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return appendJSON(dst, atts, v)
		}
		if v.IsNil() {
			return append(dst, "null"...), atts, nil
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		var err error
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(AppendQuote(dst, k.String()), ':')
			if dst, atts, err = appendReflectIn(dst, atts, v.MapIndex(k), depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	}
	return appendJSON(dst, atts, v) // structs; chan, func and complex fail there
}

// appendReflectIn writes v, found inside depth containers: through appendValue when it is an
// interface (so []byte and the other types known by name are recognised at any level), and
// otherwise straight through appendReflect, once the depth is checked.
func appendReflectIn(dst []byte, atts [][]byte, v reflect.Value, depth int) ([]byte, [][]byte, error) {
	if v.Kind() == reflect.Interface && !v.IsNil() && v.CanInterface() {
		return appendValue(dst, atts, v.Interface(), depth)
	}
	if depth >= maxValueDepth {
		return dst, atts, ErrTooDeep
	}
	return appendReflect(dst, atts, v, depth)
}

// appendJSON is the encoding/json path. HTML escaping is off because JSON.stringify does not
// escape '<', '>' and '&', and clients compare strings (PROTOCOL-NOTES 8). An addressable value
// goes by pointer, so that a MarshalJSON method on the pointer type is found, as encoding/json
// finds it for fields and elements.
func appendJSON(dst []byte, atts [][]byte, v reflect.Value) ([]byte, [][]byte, error) {
	if !v.CanInterface() {
		return dst, atts, fmt.Errorf("sio: cannot encode unexported %s", v.Type())
	}
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	n := len(dst)
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		var uv *json.UnsupportedValueError
		if errors.As(err, &uv) && strings.HasPrefix(uv.Str, "encountered a cycle") {
			err = fmt.Errorf("%w: %w", ErrTooDeep, err)
		}
		return dst[:n], atts, err
	}
	out := buf.Bytes()
	return out[:len(out)-1], atts, nil // Encode adds a newline
}
