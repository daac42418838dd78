package sio

import (
	"testing"

	"github.com/riptide-io/riptide/internal/allocs"
)

func TestZeroAllocs(t *testing.T) {
	text := []byte(`2/chat,12["chat message",{"user":"ana","text":"hello \"world\"","n":1.5}]`)
	bin := []byte(`52-7["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},"s"]}]`)
	deep := []byte(`[1]`)
	for range 100 {
		deep = append([]byte{'['}, append(deep, ']')...)
	}
	atts := [][]byte{make([]byte, 100), {1, 2, 3}}
	dst := make([]byte, 0, 4096)
	attsDst := make([][]byte, 0, 8)
	var p Packet
	if err := Decode(text, &p); err != nil {
		t.Fatal(err)
	}
	textPkt := p
	var binPkt Packet
	if err := Decode(bin, &binPkt); err != nil {
		t.Fatal(err)
	}
	escName := []byte(`"\u0063hat \ud83d\ude00"`)
	emptyEvent := []byte(`2[]`)
	auth := []byte(`{"token":"abc","pid":"x","offset":"y"}`)
	// Boxing a non-constant into an interface allocates at the call site (AppendArgs's slow path
	// hands values to encoding/json, so they escape); AppendArgs itself does not.
	args := []any{"chat", "hello", 42, 1.5, true, nil, atts[1], int64(1e12)}
	nested := []any{Object{{"user", "ana"}, {"n", 1e21}}, map[string]any{"b": []any{atts[0], 1.5}, "a": "x"},
		[]float64{1e-7, -0.5}, rawArgs{`[{"_placeholder":true,"num":0}]`, 0}}
	var sinkB []byte
	var sinkOK bool

	tests := []struct {
		name string
		f    func()
	}{
		{"Decode text", func() { _ = Decode(text, &p) }},
		{"Decode binary", func() { _ = Decode(bin, &p) }},
		{"Decode error", func() { _ = Decode(emptyEvent, &p) }},
		{"AppendPacket text", func() { dst = AppendPacket(dst[:0], &textPkt) }},
		{"AppendPacket binary", func() { dst = AppendPacket(dst[:0], &binPkt) }},
		{"Valid", func() { sinkOK = Valid(text[7:]) }},
		{"Valid deep", func() { sinkOK = Valid(deep) }},
		{"ArrayIter", func() {
			it := NewArrayIter(textPkt.Data)
			for e, ok := it.Next(); ok; e, ok = it.Next() {
				sinkB = e
			}
		}},
		{"EventName+ArgsIter", func() {
			_, rest, _ := EventName(textPkt.Data)
			it := ArgsIter(rest)
			for e, ok := it.Next(); ok; e, ok = it.Next() {
				sinkB = e
			}
		}},
		{"AppendArgsArray", func() {
			_, rest, _ := EventName(textPkt.Data)
			dst = AppendArgsArray(dst[:0], rest)
		}},
		{"ObjectField", func() { sinkB, sinkOK = ObjectField(auth, "offset") }},
		{"Unquote", func() { sinkB, _ = Unquote(dst[:0], escName) }},
		{"AppendUnquote", func() { dst, _ = AppendUnquote(dst[:0], escName) }},
		{"AppendQuote", func() { dst = AppendQuote(dst[:0], "héllo \"world\"\n\x01<>") }},
		{"Compact", func() { dst, _ = Compact(dst[:0], []byte(` [ "a" , 1 ] `)) }},
		{"AppendPlaceholder", func() { dst = AppendPlaceholder(dst[:0], 3) }},
		{"Placeholder", func() { _, sinkOK = Placeholder([]byte(`{"_placeholder":true,"num":0}`)) }},
		{"CheckPlaceholders", func() { _ = CheckPlaceholders(binPkt.Data, 2) }},
		{"AppendResolved", func() { dst, _ = AppendResolved(dst[:0], binPkt.Data, atts) }},
		{"AppendArgs fast paths", func() {
			dst, attsDst, _ = AppendArgs(dst[:0], attsDst[:0], args...)
		}},
		{"AppendArgs nested", func() {
			dst, attsDst, _ = AppendArgs(dst[:0], attsDst[:0], nested...)
		}},
		{"AppendRenumbered", func() { dst, _ = AppendRenumbered(dst[:0], binPkt.Data, 2, 3) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { allocs.MustNotAllocate(t, tc.f) })
	}
	_, _ = sinkB, sinkOK
}
