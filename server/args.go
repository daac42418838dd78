package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/riptide-io/riptide/codec/sio"
)

// Args are the arguments of an event or an ack as they came over the wire: a JSON array
// (numbers, key order and unicode exactly as sent) and the binary attachments its
// placeholders refer to. They stay raw until a handler decodes them. An Args value passed
// as the only argument of Emit or Ack is sent as is, so echoing never re-encodes.
type Args struct {
	raw  []byte // JSON array text
	atts [][]byte
}

// ErrNoArg is returned when an argument index is out of range.
var ErrNoArg = errors.New("server: no such argument")

// NewArgs makes Args from a JSON array and its attachments (used by tests and adapters).
func NewArgs(jsonArray []byte, attachments [][]byte) Args {
	return Args{raw: jsonArray, atts: attachments}
}

// JSON returns the arguments as a JSON array (placeholders where binary was).
func (a Args) JSON() []byte {
	if len(a.raw) == 0 {
		return []byte("[]")
	}
	return a.raw
}

// Attachments returns the binary attachments, in placeholder order.
func (a Args) Attachments() [][]byte { return a.atts }

// Len returns the number of arguments.
func (a Args) Len() int {
	n := 0
	it := sio.NewArrayIter(a.JSON())
	for _, ok := it.Next(); ok; _, ok = it.Next() {
		n++
	}
	return n
}

// Raw returns argument i as raw JSON (a placeholder object for binary), or nil.
func (a Args) Raw(i int) json.RawMessage {
	it := sio.NewArrayIter(a.JSON())
	for n := 0; ; n++ {
		v, ok := it.Next()
		if !ok {
			return nil
		}
		if n == i {
			return v
		}
	}
}

// Bytes returns argument i if it is a binary attachment.
func (a Args) Bytes(i int) ([]byte, bool) {
	v := a.Raw(i)
	if v == nil {
		return nil, false
	}
	num, ok := sio.Placeholder(v)
	if !ok || num < 0 || num >= len(a.atts) {
		return nil, false
	}
	return a.atts[num], true
}

// String returns argument i if it is a JSON string.
func (a Args) String(i int) (string, bool) {
	v := a.Raw(i)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	b, err := sio.AppendUnquote(nil, v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Decode unmarshals argument i into v with encoding/json. Binary attachments anywhere in the
// argument decode into []byte fields (they are presented to encoding/json as base64).
func (a Args) Decode(i int, v any) error {
	raw := a.Raw(i)
	if raw == nil {
		return fmt.Errorf("%w: %d", ErrNoArg, i)
	}
	if len(a.atts) > 0 {
		resolved, err := sio.AppendResolved(nil, raw, a.atts)
		if err != nil {
			return err
		}
		raw = resolved
	}
	return json.Unmarshal(raw, v)
}

// Bind decodes the arguments in order into vs (fewer targets than arguments is fine).
func (a Args) Bind(vs ...any) error {
	for i, v := range vs {
		if err := a.Decode(i, v); err != nil {
			return err
		}
	}
	return nil
}

// Values decodes every argument into Go values: objects as map[string]any, arrays as []any,
// numbers as json.Number, binary attachments as []byte.
func (a Args) Values() ([]any, error) {
	var out []any
	it := sio.NewArrayIter(a.JSON())
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		x, err := a.value(v)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, it.Err()
}

func (a Args) value(v []byte) (any, error) {
	if n, ok := sio.Placeholder(v); ok && n >= 0 && n < len(a.atts) {
		return a.atts[n], nil
	}
	switch v[0] {
	case '[':
		var out []any
		it := sio.NewArrayIter(v)
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			x, err := a.value(e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, it.Err()
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			x, err := a.value(e)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	err := d.Decode(&x)
	return x, err
}

// From returns the arguments from index i on (attachments are shared, placeholders keep
// their numbers).
func (a Args) From(i int) Args {
	out := make([]byte, 0, len(a.raw))
	out = append(out, '[')
	it := sio.NewArrayIter(a.JSON())
	n := 0
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if n >= i {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, v...)
		}
		n++
	}
	return Args{raw: append(out, ']'), atts: a.atts}
}
