package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
)

func addWireSeeds(f *testing.F) {
	for _, tc := range nodeCases {
		f.Add([]byte(tc.wire))
	}
	for _, tc := range lenientCases {
		f.Add([]byte(tc.wire))
	}
	for _, tc := range badCases {
		f.Add([]byte(tc.wire))
	}
}

func addJSONSeeds(f *testing.F) {
	for _, tc := range nodeCases {
		if tc.want.Data != nil {
			f.Add(tc.want.Data)
		}
	}
	for _, s := range validCases {
		f.Add([]byte(s))
	}
	for _, s := range invalidCases {
		f.Add([]byte(s))
	}
}

// FuzzDecode: Decode never panics nor writes to its input, and what it accepts re-encodes to a
// packet that decodes to the same packet. Accepted payloads satisfy the helpers' expectations.
func FuzzDecode(f *testing.F) {
	addWireSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		var p Packet
		err := Decode(in, &p)
		if !bytes.Equal(in, orig) {
			t.Fatalf("Decode modified its input")
		}
		if err != nil {
			return
		}
		enc := AppendPacket(nil, &p)
		var q Packet
		if err := Decode(enc, &q); err != nil {
			t.Fatalf("Decode(%q) = %+v; re-encoded %q fails: %v", in, p, enc, err)
		}
		if !samePacket(&p, &q) {
			t.Fatalf("Decode(%q) = %+v; re-encoded %q decodes to %+v", in, p, enc, q)
		}
		if again := AppendPacket(nil, &q); !bytes.Equal(again, enc) {
			t.Fatalf("encoding not stable: %q then %q", enc, again)
		}
		if p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("accepted invalid JSON %q", p.Data)
		}
		switch p.Type {
		case Event, BinaryEvent:
			name, rest, err := EventName(p.Data)
			if err != nil {
				t.Fatalf("EventName(%q): %v", p.Data, err)
			}
			if name[0] == '"' {
				if _, err := Unquote(nil, name); err != nil {
					t.Fatalf("Unquote(%q): %v", name, err)
				}
			}
			it := ArgsIter(rest)
			for _, ok := it.Next(); ok; _, ok = it.Next() {
			}
			if it.Err() != nil || !json.Valid(AppendArgsArray(nil, rest)) {
				t.Fatalf("args of %q: %v", p.Data, it.Err())
			}
		}
		if p.Type.IsBinary() {
			atts := make([][]byte, p.Attachments)
			res, err := AppendResolved(nil, p.Data, atts)
			if err != nil || !json.Valid(res) {
				t.Fatalf("AppendResolved(%q) = %q, %v", p.Data, res, err)
			}
		}
	})
}

// FuzzValid: Valid agrees with encoding/json.Valid, and Compact with json.Compact.
func FuzzValid(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		got, want := Valid(in), json.Valid(in)
		if got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", in, got, want)
		}
		c, err := Compact(nil, in)
		if (err == nil) != want {
			t.Fatalf("Compact(%q): %v", in, err)
		}
		if want {
			var jc bytes.Buffer
			if err := json.Compact(&jc, in); err != nil || !bytes.Equal(c, jc.Bytes()) {
				t.Fatalf("Compact(%q) = %q, json.Compact = %q", in, c, jc.Bytes())
			}
		}
	})
}

// FuzzArrayIter: the elements of a valid JSON array are what encoding/json sees as its raw
// elements; anything that is not a valid JSON array ends in an error.
func FuzzArrayIter(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		it := NewArrayIter(in)
		var got [][]byte
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			got = append(got, e)
		}
		var want []json.RawMessage
		werr := json.Unmarshal(in, &want)
		if werr != nil {
			if it.Err() == nil {
				t.Fatalf("NewArrayIter(%q) accepted %q; json: %v", in, got, werr)
			}
			return
		}
		if want == nil { // "null" unmarshals into a nil slice
			if it.Err() == nil {
				t.Fatalf("NewArrayIter(%q) accepted a non-array", in)
			}
			return
		}
		if it.Err() != nil || len(got) != len(want) {
			t.Fatalf("NewArrayIter(%q) = %q, %v; json: %q", in, got, it.Err(), want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("element %d: %q, json: %q", i, got[i], want[i])
			}
		}
	})
}

// FuzzUnquote: string literals decode as encoding/json decodes them.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\ud83d\ude00"`, `"\ud83d"`, "\"\xff\"", `"\u00e9\n"`, `"\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := AppendUnquote(nil, in)
		var want string
		werr := json.Unmarshal(in, &want)
		isLit := len(in) > 0 && in[0] == '"' && !isWS[in[len(in)-1]] // literal without surrounding whitespace
		if isLit && (err == nil) != (werr == nil) {
			t.Fatalf("AppendUnquote(%q): %v; json: %v", in, err, werr)
		}
		if err != nil {
			return
		}
		if string(got) != want {
			t.Fatalf("AppendUnquote(%q) = %q, json %q", in, got, want)
		}
		if u, err := Unquote(nil, in); err != nil || string(u) != want {
			t.Fatalf("Unquote(%q) = %q, %v", in, u, err)
		}
		if !strEqual(in, want) {
			t.Fatalf("strEqual(%q, %q) = false", in, want)
		}
		// AppendQuote output decodes back (JSON.stringify round trip on valid UTF-8).
		var back string
		if err := json.Unmarshal(AppendQuote(nil, want), &back); err != nil || back != want {
			t.Fatalf("AppendQuote(%q) round trip: %q, %v", want, back, err)
		}
	})
}

// FuzzAppendValue: whatever encoding/json decodes from the input, AppendValue writes as valid
// JSON that decodes to the same value; with numbers kept as json.Number, every number is
// written as it was.
func FuzzAppendValue(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		out, atts, err := AppendValue(nil, nil, v)
		if errors.Is(err, ErrTooDeep) && len(in) > maxValueDepth {
			return
		}
		if err != nil || len(atts) != 0 || !Valid(out) {
			t.Fatalf("AppendValue(%q) = %q, %d attachments, %v", in, out, len(atts), err)
		}
		var back any
		if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, v) {
			t.Fatalf("AppendValue(%q) = %q, which decodes to %v (%v)", in, out, back, err)
		}
		d := json.NewDecoder(bytes.NewReader(in))
		d.UseNumber()
		if d.Decode(&v) != nil {
			t.Fatalf("UseNumber decode of %q failed", in)
		}
		out, _, err = AppendValue(nil, nil, v)
		if err != nil || !Valid(out) {
			t.Fatalf("AppendValue(%q) with json.Number = %q, %v", in, out, err)
		}
	})
}

// FuzzAppendNumber: AppendNumber agrees with encoding/json, which formats float64 as ES6's
// Number::toString does, on every finite value but -0 (JSON.stringify writes 0), and what it
// writes parses back to the same float64.
func FuzzAppendNumber(f *testing.F) {
	for _, x := range []float64{0, 1, 1e21, 1e-7, 1e20, 1e-6, 5e-324, math.MaxFloat64, 1 << 53} {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		got := AppendNumber(nil, x)
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			if string(got) != "null" {
				t.Fatalf("AppendNumber(%v) = %s", x, got)
			}
			return
		case x == 0:
			if string(got) != "0" {
				t.Fatalf("AppendNumber(%v) = %s", x, got)
			}
			return
		}
		want, _ := json.Marshal(x)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendNumber(%v) = %s, encoding/json %s", x, got, want)
		}
		if back, err := strconv.ParseFloat(string(got), 64); err != nil || back != x {
			t.Fatalf("AppendNumber(%v) = %s, parses to %v (%v)", x, got, back, err)
		}
	})
}
