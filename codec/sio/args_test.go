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

func TestAppendArgsErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	got, atts, err := AppendArgs([]byte("x"), nil, "a", []byte{1}, cyclic)
	if !errors.Is(err, ErrTooDeep) || string(got) != "x" || len(atts) != 0 {
		t.Fatalf("cyclic: %q %v %v", got, atts, err)
	}
	got, _, err = AppendArgs([]byte("x"), nil, make(chan int))
	if err == nil || string(got) != "x" {
		t.Fatalf("chan: %q %v", got, err)
	}
}
