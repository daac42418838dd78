package server

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/internal/allocs"
)

// encodeCases are shared by the encoder's tests and its benchmark.
var encodeCases = []struct {
	name string
	args []any
}{
	{"strings", []any{"hello world"}},
	{"scalars", []any{12345, 1.5, true, nil}},
	{"object", []any{Object{{Key: "user", Value: "ana"}, {Key: "text", Value: "hello there"}, {Key: "n", Value: 3}}}},
	{"raw", []any{json.RawMessage(`{"user":"ana","n":1}`)}},
	{"binary", []any{"photo.jpg", make([]byte, 1024)}},
	{"echo", []any{NewArgs([]byte(`["x",{"_placeholder":true,"num":0}]`), [][]byte{{1}})}},
}

// BenchmarkEncodeEvent measures encodeEvent, the JSON side of Emit, on the common shapes.
func BenchmarkEncodeEvent(b *testing.B) {
	for _, tc := range encodeCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := encodeEvent("ev", tc.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Emitted numbers are written as JSON.stringify writes them (the expected text is Node's),
// and Args nested in an emitted value keep their binary, renumbered after the value's own.
func TestEmitNumbersAndNestedArgs(t *testing.T) {
	type score float64
	io := New(Options{})
	io.On("go", func(s *Socket, ev *Event) {
		_ = s.Emit("numbers", 1e21, 1e-7, math.Copysign(0, -1), 1e20, 1e-6, 5e-324, -1.5e300,
			[]float64{1e21, math.NaN()}, score(1e-7), map[string]score{"a": 2.5e-8})
		_ = ev.Ack(Object{{Key: "bin", Value: []byte{7}}, {Key: "args", Value: ev.Args}})
	})
	w := dialWire(t, startIO(t, io))
	w.connect("/", "")
	w.send(`451-1["go",{"_placeholder":true,"num":0}]`)
	w.sendBinary([]byte("x"))
	want := `42["numbers",1e+21,1e-7,0,100000000000000000000,0.000001,5e-324,-1.5e+300,[1e+21,null],1e-7,{"a":2.5e-8}]`
	if got := w.next(); got != want {
		t.Fatalf("numbers\n got %s\nwant %s", got, want)
	}
	want = `462-1[{"bin":{"_placeholder":true,"num":0},"args":[{"_placeholder":true,"num":1}]}]`
	if got := w.next(); got != want {
		t.Fatalf("ack\n got %s\nwant %s", got, want)
	}
	if b := w.nextBinary(); string(b) != "\x07" {
		t.Fatalf("attachment 0 %q", b)
	}
	if b := w.nextBinary(); string(b) != "x" {
		t.Fatalf("attachment 1 %q", b)
	}
}

// A value that contains itself, or nests deeper than the decoder accepts, fails Emit and Ack
// with sio.ErrTooDeep; nothing is sent for it.
func TestEmitTooDeep(t *testing.T) {
	type node struct{ Next *node }
	io := New(Options{})
	io.On("go", func(s *Socket, ev *Event) {
		cyclic := map[string]any{}
		cyclic["self"] = []any{cyclic}
		deep := any("x")
		for range 10000 {
			deep = []any{deep}
		}
		ring := &node{}
		ring.Next = ring
		var errs []any
		for _, v := range []any{cyclic, deep, ring} {
			err := s.Emit("never", v)
			errs = append(errs, errors.Is(err, sio.ErrTooDeep))
		}
		_ = ev.Ack(errs...)
	})
	w := dialWire(t, startIO(t, io))
	w.connect("/", "")
	w.send(`421["go"]`)
	if got := w.next(); got != `431[true,true,true]` {
		t.Fatalf("ack %s", got)
	}
}

// The encoder's output for every shared case is valid JSON the decoder takes back.
func TestEncodeEventValid(t *testing.T) {
	for _, tc := range encodeCases {
		data, atts, err := encodeEvent("ev", tc.args)
		if err != nil || sio.CheckPlaceholders(data, len(atts)) != nil {
			t.Errorf("%s: %q %d %v", tc.name, data, len(atts), err)
		}
	}
}

// appendArgs, the encoding under every Emit and Ack, does not allocate on the shared cases.
func TestAppendArgsZeroAllocs(t *testing.T) {
	dst := make([]byte, 0, 4096)
	atts := make([][]byte, 0, 8)
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			// One attachment is there already: Args are renumbered, not copied.
			allocs.MustNotAllocate(t, func() { dst, atts, _ = appendArgs(dst[:0], atts[:1], false, tc.args) })
		})
	}
}
