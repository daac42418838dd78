package sio

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendPlaceholder(t *testing.T) {
	if got := AppendPlaceholder([]byte("["), 12); string(got) != `[{"_placeholder":true,"num":12}` {
		t.Fatalf("got %q", got)
	}
}

func TestPlaceholder(t *testing.T) {
	for in, want := range map[string]int{
		`{"_placeholder":true,"num":0}`:                              0,
		` { "num" : 3 , "_placeholder" : true } `:                    3,
		`{"\u005fplaceholder":true,"num":1}`:                         1,
		`{"_placeholder":false,"_placeholder":true,"num":9,"num":2}`: 2, // last wins, as in JSON.parse
	} {
		if n, ok := Placeholder([]byte(in)); !ok || n != want {
			t.Errorf("Placeholder(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, in := range []string{
		``, `[]`, `{}`, `{"_placeholder":true}`, `{"_placeholder":false,"num":0}`, `{"_placeholder":"true","num":0}`,
		`{"_placeholder":true,"num":-1}`, `{"_placeholder":true,"num":1.0}`, `{"_placeholder":true,"num":"0"}`,
		`{"_placeholder":true,"num":0,"x":1}`, `{"_placeholder":true,"num":[0]}`, `{"_placeholder":true,"num":0}x`,
		`{"_placeholder":true,"num":0`, `{"_placeholder":true,"_placeholder":false,"num":0}`, `{"num":0}`,
	} {
		if n, ok := Placeholder([]byte(in)); ok {
			t.Errorf("Placeholder(%q) = %d, true", in, n)
		}
	}
}

func TestCheckPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		data string
		n    int
		err  error
	}{
		{`["a"]`, 0, nil},
		{`["a",{"_placeholder":true,"num":0}]`, 1, nil},
		{`["a",{"_placeholder":true,"num":0}]`, 0, ErrBadPlaceholder},
		{`["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`, 1, nil}, // repeated: Node allows it
		{`["a",{"_placeholder":true,"num":1}]`, 3, nil},                               // unused 0 and 2: Node allows it
		{`["a",{"x":[{"y":{"_placeholder":true,"num":2}}]}]`, 2, ErrBadPlaceholder},
		{`["{\"_placeholder\":true,\"num\":5}"]`, 0, nil}, // inside a string: not a placeholder
		{`["a",{"_placeholder":true,"num":99999999999999999999999}]`, 1, ErrBadPlaceholder},
		{`["a",{"_placeholder":true,"num":0.5}]`, 1, ErrBadPlaceholder},
		{`["a",{"_placeholder":true}]`, 1, ErrBadPlaceholder},
		{`["a",{"_placeholder":1,"num":7}]`, 1, nil}, // _placeholder not true: plain data, as in Node
		{`["a",`, 1, ErrInvalidJSON},
	} {
		if err := CheckPlaceholders([]byte(tc.data), tc.n); err != tc.err {
			t.Errorf("CheckPlaceholders(%q, %d) = %v, want %v", tc.data, tc.n, err, tc.err)
		}
	}
}

func TestAppendResolved(t *testing.T) {
	data := []byte(`["ev",{"a":{"_placeholder":true,"num":0},"b":[{ "num" : 1 , "_placeholder" : true },"s"],"c":"{\"_placeholder\":true,\"num\":0}"},{"_placeholder":true,"num":0}]`)
	atts := [][]byte{{1, 2, 3}, {}}
	got, err := AppendResolved([]byte("x"), data, atts)
	want := `x["ev",{"a":"AQID","b":["","s"],"c":"{\"_placeholder\":true,\"num\":0}"},"AQID"]`
	if err != nil || string(got) != want {
		t.Fatalf("AppendResolved = %q, %v\nwant %q", got, err, want)
	}
	// encoding/json decodes the attachments into []byte fields.
	var v []json.RawMessage
	if err := json.Unmarshal(got[1:], &v); err != nil {
		t.Fatal(err)
	}
	var s struct {
		A []byte
		B []json.RawMessage
	}
	var b []byte
	if err := json.Unmarshal(v[1], &s); err != nil || string(s.A) != "\x01\x02\x03" || string(s.B[0]) != `""` {
		t.Fatalf("%+v %v", s, err)
	}
	if err := json.Unmarshal(v[2], &b); err != nil || string(b) != "\x01\x02\x03" {
		t.Fatalf("%q %v", b, err)
	}
	for _, bad := range []string{`[{"_placeholder":true,"num":2}]`, `[{"_placeholder":true,"num":-1}]`, `[1,`} {
		if got, err := AppendResolved([]byte("x"), []byte(bad), atts); err == nil || string(got) != "x" {
			t.Errorf("AppendResolved(%q) = %q, %v", bad, got, err)
		}
	}
}

// Placeholder classification stays linear on hostile nesting: each object is looked at once.
// The deep input is timed against a flat one of the same size, in the same run, so a loaded
// machine slows both alike: linear work keeps them within a small factor, quadratic work on
// these 250 KB would be thousands of times slower.
func TestCheckPlaceholdersDeep(t *testing.T) {
	var deep []byte
	for range maxDepth - 1 {
		deep = append(deep, `{"_placeholder":true,"x":`...)
	}
	deep = append(deep, '1')
	for range maxDepth - 1 {
		deep = append(deep, '}')
	}
	flat := []byte{'['}
	for len(flat) < len(deep)-8 {
		flat = append(flat, `{"a":1},`...)
	}
	flat = append(flat, "1]"...)
	fastest := func(data []byte) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			if err := CheckPlaceholders(data, 1); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	d, f := fastest(deep), fastest(flat)
	t.Logf("%d bytes: nested %v, flat %v", len(deep), d, f)
	if d > 20*f+5*time.Millisecond {
		t.Fatalf("CheckPlaceholders took %v on %d nested bytes, %v on as many flat ones: not linear?", d, len(deep), f)
	}
}
