package sio

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	`0`, `-0`, `1.5e+10`, `-0.0E-0`, `123`, `"x"`, `""`, `true`, `false`, `null`, `[]`, `{}`, ` [ ] `,
	`{"a":1,"b":[1,2,{"c":null}]}`, `[1,"2",[3],{"4":5}]`, "\t\n\r [1]\r\n\t",
	`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, "\"\xff\xfe invalid utf-8 is accepted\"", `"é中😀"`,
	`{"a":{"a":{"a":{"a":[[[[[[[[]]]]]]]]}}}}`, `"0123456789abcdef0123456789abcdef\"0123456789abcdef"`,
	`[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]`,
}

var invalidCases = []string{
	``, ` `, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x1`, `NaN`, `tru`, `nul`, `True`, `"`, `"\x"`, `"\u12"`,
	`"\u12G4"`, "\"a\x1f\"", "\"a\x00\"", `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `{`, `{"a"}`, `{"a":}`, `{a:1}`,
	`{"a":1,}`, `{"a" 1}`, `{,}`, `[}`, `{]`, `1 2`, `[1]]`, `{}}`, `'a'`, `"abc`, `[1,2,3,4,5,6,7,8`,
	`"0123456789abcdef0123456789abcdef`, "\"0123456789\x01abcdef\"", `[-]`, `{"a":1"b":2}`,
}

func TestValid(t *testing.T) {
	for _, s := range validCases {
		if !Valid([]byte(s)) || !json.Valid([]byte(s)) {
			t.Errorf("Valid(%q) = %v, json.Valid = %v, want true", s, Valid([]byte(s)), json.Valid([]byte(s)))
		}
	}
	for _, s := range invalidCases {
		if Valid([]byte(s)) || json.Valid([]byte(s)) {
			t.Errorf("Valid(%q) = %v, json.Valid = %v, want false", s, Valid([]byte(s)), json.Valid([]byte(s)))
		}
	}
}

// The nesting limit is encoding/json's, exactly, and deep input does not recurse.
func TestValidDepth(t *testing.T) {
	for _, n := range []int{63, 64, 65, 200, maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", "{\"k\":"} {
			close := map[string]string{"[": "]", "{\"k\":": "}"}[open]
			for _, inner := range []string{"[]", "1"} {
				s := []byte(strings.Repeat(open, n-1) + inner + strings.Repeat(close, n-1))
				if inner == "1" {
					s = []byte(strings.Repeat(open, n) + inner + strings.Repeat(close, n))
				}
				if got, want := Valid(s), json.Valid(s); got != want {
					t.Errorf("depth %d %q inner %s: Valid = %v, json.Valid = %v", n, open, inner, got, want)
				}
			}
		}
	}
	// Mixed nesting beyond one stack word.
	var sb strings.Builder
	for i := range 300 {
		if i%3 == 0 {
			sb.WriteString(`{"k":`)
		} else {
			sb.WriteString("[0,")
		}
	}
	sb.WriteString("1")
	for i := 299; i >= 0; i-- {
		if i%3 == 0 {
			sb.WriteString("}")
		} else {
			sb.WriteString("]")
		}
	}
	if !Valid([]byte(sb.String())) {
		t.Fatal("mixed nesting rejected")
	}
}

func TestCompact(t *testing.T) {
	for in, want := range map[string]string{
		` [ 1 , 1.0 , "a b\" c" , { "k" : true } ] `: `[1,1.0,"a b\" c",{"k":true}]`,
		`{"b":1,"a":2}`:         `{"b":1,"a":2}`,
		"\"\\u00e9\\n\"\r\n\t ": `"\u00e9\n"`,
	} {
		got, err := Compact(nil, []byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Compact(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := Compact([]byte("x"), []byte(`[1,`)); err != ErrInvalidJSON || string(got) != "x" {
		t.Fatalf("Compact(invalid) = %q, %v", got, err)
	}
}

// JSON.stringify outputs, from node: [base64 of the UTF-8 string, JSON.stringify(string)].
var stringifyCases = [][2]string{
	{"", `""`}, {"cGxhaW4=", `"plain"`}, {"w6nkuK3wn5iA", `"é中😀"`}, {"4oCo4oCp", "\"\u2028\u2029\""},
	{"CgkiXAEffy88PiY=", "\"\\n\\t\\\"\\\\\\u0001\\u001f\x7f/<>&\""}, {"CAwNAA==", `"\b\f\r\u0000"`}, {"YRBi", `"a\u0010b"`},
}

func TestAppendQuote(t *testing.T) {
	for _, tc := range stringifyCases {
		s, _ := base64.StdEncoding.DecodeString(tc[0])
		if got := AppendQuote(nil, string(s)); string(got) != tc[1] {
			t.Errorf("AppendQuote(%q) = %q, want %q", s, got, tc[1])
		}
		back, err := AppendUnquote(nil, []byte(tc[1]))
		if err != nil || string(back) != string(s) {
			t.Errorf("AppendUnquote(%q) = %q, %v", tc[1], back, err)
		}
	}
	if got := AppendQuote([]byte("x"), "a\xffb\xe4\xb8"); string(got) != "x\"a\uFFFDb\uFFFD\uFFFD\"" {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

func TestUnquote(t *testing.T) {
	for _, lit := range []string{
		`""`, `"abc"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u4E2D"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`,
		`"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, "\"a\xffb\"", "\"\xe4\xb8\"", `"é中😀"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatal(lit, err)
		}
		got, err := AppendUnquote([]byte("x"), []byte(lit))
		if err != nil || string(got) != "x"+want {
			t.Errorf("AppendUnquote(%q) = %q, %v; want %q", lit, got, err, want)
		}
		got, err = Unquote(make([]byte, 0, 64), []byte(lit))
		if err != nil || string(got) != want {
			t.Errorf("Unquote(%q) = %q, %v; want %q", lit, got, err, want)
		}
		if !strEqual([]byte(lit), want) || strEqual([]byte(lit), want+"x") || (want != "" && strEqual([]byte(lit), want[:len(want)-1])) {
			t.Errorf("strEqual(%q, %q) wrong", lit, want)
		}
	}
	for _, lit := range []string{``, `"`, `"a`, `a"`, `"a"b`, `"\x"`, ` "a"`, `1`} {
		if got, err := AppendUnquote([]byte("x"), []byte(lit)); err != ErrInvalidJSON || string(got) != "x" {
			t.Errorf("AppendUnquote(%q) = %q, %v", lit, got, err)
		}
		if _, err := Unquote(nil, []byte(lit)); err != ErrInvalidJSON {
			t.Errorf("Unquote(%q) = %v", lit, err)
		}
	}
	// Unquote aliases the literal when it can.
	lit := []byte(`"chat"`)
	if got, _ := Unquote(nil, lit); &got[0] != &lit[1] {
		t.Error("Unquote copied an escape-free literal")
	}
}

func TestObjectField(t *testing.T) {
	obj := []byte(` { "token" : "abc", "n": 1, "nested": {"token": 2}, "arr": [1, {"n": 3}], "\u0074oken": true, "e": {} } `)
	for key, want := range map[string]string{
		"token": `true`, "n": `1`, "nested": `{"token": 2}`, "arr": `[1, {"n": 3}]`, "e": `{}`, "tok": "",
	} {
		got, ok := ObjectField(obj, key)
		if ok != (want != "") || string(got) != want {
			t.Errorf("ObjectField(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"token":1`, `{"token":1,}`, `{"token":1} x`, `{"token" 1}`, `{"token":}`, `"token"`} {
		if v, ok := ObjectField([]byte(bad), "token"); ok {
			t.Errorf("ObjectField(%q) = %q", bad, v)
		}
	}
	if v, ok := ObjectField([]byte(`{"pid":"x","offset":"y"}`), "offset"); !ok || string(v) != `"y"` {
		t.Errorf("offset: %q %v", v, ok)
	}
}

func collect(it ArrayIter) ([]string, error) {
	var out []string
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		out = append(out, string(e))
	}
	return out, it.Err()
}

func TestArrayIter(t *testing.T) {
	for in, want := range map[string][]string{
		`[]`:                          nil,
		` [ ] `:                       nil,
		`["a"]`:                       {`"a"`},
		` [ "a" , 1 ,{"b":[2]}, [] ]`: {`"a"`, `1`, `{"b":[2]}`, `[]`},
		`[null,true,false,-1.5e3]`:    {`null`, `true`, `false`, `-1.5e3`},
	} {
		got, err := collect(NewArrayIter([]byte(in)))
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("NewArrayIter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `{}`, `[`, `[1`, `[1,`, `[1,]`, `[,]`, `[1 2]`, `[1]x`, `[1]]`, `["a]`, `1`} {
		if got, err := collect(NewArrayIter([]byte(in))); err != ErrInvalidJSON {
			t.Errorf("NewArrayIter(%q) = %q, %v; want error", in, got, err)
		}
	}
	var zero ArrayIter
	if _, ok := zero.Next(); ok || zero.Err() == nil {
		t.Error("zero ArrayIter")
	}
}

func TestEventName(t *testing.T) {
	for _, tc := range []struct{ data, name, rest, args string }{
		{`["chat"]`, `"chat"`, `]`, `[]`},
		{`["chat","hi",{"a":1}]`, `"chat"`, `,"hi",{"a":1}]`, `["hi",{"a":1}]`},
		{` [ "a\"b" , 1 ] `, `"a\"b"`, `, 1 ] `, `[1 ]`},
		{`[-1.5,2]`, `-1.5`, `,2]`, `[2]`},
		{`[7]`, `7`, `]`, `[]`},
	} {
		name, rest, err := EventName([]byte(tc.data))
		if err != nil || string(name) != tc.name || string(rest) != tc.rest {
			t.Errorf("EventName(%q) = %q, %q, %v", tc.data, name, rest, err)
			continue
		}
		if got := AppendArgsArray(nil, rest); string(got) != tc.args {
			t.Errorf("AppendArgsArray(%q) = %q, want %q", rest, got, tc.args)
		}
		if !Valid(AppendArgsArray(nil, rest)) {
			t.Errorf("AppendArgsArray(%q) invalid", rest)
		}
		gotArgs, err := collect(ArgsIter(rest))
		wantArgs, _ := collect(NewArrayIter([]byte(tc.args)))
		if err != nil || strings.Join(gotArgs, "|") != strings.Join(wantArgs, "|") {
			t.Errorf("ArgsIter(%q) = %q, %v; want %q", rest, gotArgs, err, wantArgs)
		}
	}
	for data, want := range map[string]error{
		`[]`: ErrInvalidPayload, `{}`: ErrInvalidPayload, `[null]`: ErrInvalidPayload, `[{}]`: ErrInvalidPayload,
		`[[1]]`: ErrInvalidPayload, `[true]`: ErrInvalidPayload, `["a`: ErrInvalidJSON, `["a" 1]`: ErrInvalidJSON,
		`["a"`: ErrInvalidJSON, ``: ErrInvalidPayload,
	} {
		if _, _, err := EventName([]byte(data)); err != want {
			t.Errorf("EventName(%q) = %v, want %v", data, err, want)
		}
	}
	if _, err := collect(ArgsIter([]byte(`,1,`))); err != ErrInvalidJSON {
		t.Error("ArgsIter accepted a broken tail")
	}
}
