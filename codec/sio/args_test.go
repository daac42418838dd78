package sio

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
)

type point struct {
	X, Y int
	Raw  []byte `json:"raw,omitempty"`
	Tag  string `json:"tag"`
}

type (
	score   float64
	label   string
	blob    []byte // a named []byte: base64, as encoding/json writes it
	textKey string
)

func (k textKey) MarshalText() ([]byte, error) { return []byte("text:" + k), nil }

func ptrTo[T any](v T) *T { return &v }

// rawArgs is an Appender holding JSON whose placeholders name n attachments of one byte.
type rawArgs struct {
	json string
	n    int
}

func (r rawArgs) AppendJSON(dst []byte, atts [][]byte) ([]byte, [][]byte, error) {
	dst, err := AppendRenumbered(dst, []byte(r.json), r.n, len(atts))
	for range r.n {
		atts = append(atts, []byte{1})
	}
	return dst, atts, err
}

func TestAppendArgs(t *testing.T) {
	bin0, bin1 := []byte{1, 2}, []byte{}
	tests := []struct {
		name string
		args []any
		want string
		atts int
	}{
		{"none", nil, `[]`, 0},
		{"scalars", []any{"chat", "hi", 1, -2, int8(3), uint64(math.MaxUint64), true, false, nil}, `["chat","hi",1,-2,3,18446744073709551615,true,false,null]`, 0},
		{"floats", []any{1.5, 0.1, 1e21, 1e-7, float32(1.1), -0.0, math.NaN(), math.Inf(1), 100.0}, `[1.5,0.1,1e+21,1e-7,1.1,0,null,null,100]`, 0},
		{"html", []any{"<a>&"}, `["<a>&"]`, 0},
		{"raw", []any{json.RawMessage(`{"b":1,"a":1.0}`), json.RawMessage(nil)}, `[{"b":1,"a":1.0},null]`, 0},
		{"binary", []any{"up", bin0}, `["up",{"_placeholder":true,"num":0}]`, 1},
		{"nested binary", []any{"up", map[string]any{"b": []any{bin1, "s"}, "a": bin0}, [][]byte{bin0}},
			`["up",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},"s"]},[{"_placeholder":true,"num":2}]]`, 3},
		{"struct", []any{point{X: 1, Y: 2, Raw: []byte{1}, Tag: "<"}}, `[{"X":1,"Y":2,"raw":"AQ==","tag":"<"}]`, 0},
		{"nil containers", []any{[]any(nil), map[string]any(nil), []any{}}, `[null,null,[]]`, 0},
		{"map of string", []any{map[string]string{"b": "1", "a": "&"}}, `[{"a":"&","b":"1"}]`, 0},
		{"object", []any{Object{{"z", 1}, {"a", []byte{1}}}, Object(nil)}, `[{"z":1,"a":{"_placeholder":true,"num":0}},{}]`, 1},
		{"named kinds", []any{score(-0.0), label("<"), []score{1e21}, map[label]any{"k": []byte{}}, [2]uint8{1, 2}},
			`[0,"<",[1e+21],{"k":{"_placeholder":true,"num":0}},[1,2]]`, 1},
		{"pointers", []any{&point{X: 1}, (*point)(nil), ptrTo(any(1e-7)), ptrTo([]byte{1})}, `[{"X":1,"Y":0,"tag":""},null,1e-7,{"_placeholder":true,"num":0}]`, 1},
		{"own JSON", []any{json.Number("1.50"), []json.Number{"-2e3", ""}, blob{1}, []textKey{"a"}}, `[1.50,[-2e3,0],"AQ==",["text:a"]]`, 0},
		{"appender", []any{rawArgs{`[{"_placeholder":true,"num":0}]`, 1}, []any{rawArgs{`[1]`, 0}}, (*rawArgs)(nil), []*rawArgs{nil}},
			`[[{"_placeholder":true,"num":0}],[[1]],null,[null]]`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, atts, err := AppendArgs([]byte("x"), nil, tc.args...)
			if err != nil || string(got) != "x"+tc.want {
				t.Fatalf("AppendArgs = %q, %v\nwant %q", got, err, tc.want)
			}
			if len(atts) != tc.atts {
				t.Fatalf("atts %d, want %d", len(atts), tc.atts)
			}
			if !Valid(got[1:]) {
				t.Fatalf("invalid JSON %q", got)
			}
		})
	}
	// Placeholders are numbered after the attachments already present.
	got, atts, _ := AppendArgs(nil, [][]byte{{9}}, bin0)
	if string(got) != `[{"_placeholder":true,"num":1}]` || &atts[1][0] != &bin0[0] {
		t.Fatalf("%q %v", got, atts)
	}
}

// Float formatting matches JSON.stringify (outputs from node: [n.toString(), JSON.stringify(n)]).
func TestAppendArgsFloats(t *testing.T) {
	for _, tc := range [][2]string{
		{"0", "0"}, {"1", "1"}, {"-1", "-1"}, {"1.5", "1.5"}, {"0.1", "0.1"}, {"1e+21", "1e+21"},
		{"100000000000000000000", "100000000000000000000"}, {"123456789012345680000", "123456789012345680000"},
		{"0.000001", "0.000001"}, {"1e-7", "1e-7"}, {"1.5e-7", "1.5e-7"}, {"5e-324", "5e-324"},
		{"1.7976931348623157e+308", "1.7976931348623157e+308"}, {"-2.5e-10", "-2.5e-10"}, {"3.14159", "3.14159"},
		{"100", "100"}, {"1e+100", "1e+100"},
	} {
		f, err := strconv.ParseFloat(tc[0], 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFloat(nil, f, 64); string(got) != tc[1] {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, tc[1])
		}
	}
}

type ring struct{ Next *ring }

func TestAppendArgsErrors(t *testing.T) {
	cyclicSlice := []any{nil}
	cyclicSlice[0] = cyclicSlice
	cyclicMap := map[string]any{}
	cyclicMap["self"] = Object{{"again", cyclicMap}}
	var cyclicPtr any
	cyclicPtr = &cyclicPtr
	r := &ring{}
	r.Next = r
	for name, v := range map[string]any{"slice": cyclicSlice, "map": cyclicMap, "pointer": cyclicPtr, "struct": r} {
		got, atts, err := AppendArgs([]byte("x"), nil, "a", []byte{1}, v)
		if !errors.Is(err, ErrTooDeep) || string(got) != "x" || len(atts) != 0 {
			t.Fatalf("cyclic %s: %q %v %v", name, got, atts, err)
		}
	}
	for _, v := range []any{make(chan int), json.Number("1e"), json.Number("0x1")} {
		got, _, err := AppendArgs([]byte("x"), nil, v)
		if err == nil || string(got) != "x" {
			t.Fatalf("%#v: %q %v", v, got, err)
		}
	}
	got, _, err := AppendArgs([]byte("x"), nil, rawArgs{`[{"_placeholder":true,"num":1}]`, 1})
	if !errors.Is(err, ErrBadPlaceholder) || string(got) != "x" {
		t.Fatalf("appender: %q %v", got, err)
	}
}

// The depth limit is the decoder's: the deepest value AppendArgs writes decodes again, one
// level more fails with ErrTooDeep, in every kind of container.
func TestAppendArgsDepth(t *testing.T) {
	nest := map[string]func(any) any{
		"[]any":               func(v any) any { return []any{v} },
		"map[string]any":      func(v any) any { return map[string]any{"k": v} },
		"Object":              func(v any) any { return Object{{"k", v}} },
		"[]any by reflection": func(v any) any { return [1]any{v} },
		"pointer":             func(v any) any { return &v },
	}
	for name, wrap := range nest {
		v := any(1)
		for range maxValueDepth {
			v = wrap(v)
		}
		got, _, err := AppendArgs(nil, nil, v)
		if err != nil || !Valid(got) {
			t.Fatalf("%s at the limit: %v (valid %v)", name, err, Valid(got))
		}
		if _, _, err := AppendArgs(nil, nil, wrap(wrap(v))); !errors.Is(err, ErrTooDeep) {
			t.Fatalf("%s past the limit: %v", name, err)
		}
	}
}

func TestAppendRenumbered(t *testing.T) {
	data := `[{"_placeholder":true,"num":1},"{\"_placeholder\":true,\"num\":0}",{"a":{"num":0,"_placeholder":true}}]`
	got, err := AppendRenumbered([]byte("x"), []byte(data), 2, 9)
	want := `x[{"_placeholder":true,"num":10},"{\"_placeholder\":true,\"num\":0}",{"a":{"_placeholder":true,"num":9}}]`
	if err != nil || string(got) != want {
		t.Fatalf("AppendRenumbered = %s, %v\nwant %s", got, err, want)
	}
	for _, bad := range []string{`[{"_placeholder":true,"num":2}]`, `[{"_placeholder":true,"num":-1}]`, `[`} {
		if got, err := AppendRenumbered([]byte("x"), []byte(bad), 2, 1); err == nil || string(got) != "x" {
			t.Errorf("AppendRenumbered(%s) = %s, %v", bad, got, err)
		}
	}
}
