package sio

import (
	"encoding/json"
	"strings"
	"testing"
)

var benchCases = []struct {
	name string
	wire string
	atts [][]byte
}{
	{"text event", `2["chat message",{"user":"ana","text":"hello world, how are you today?","ts":1712345678901}]`, nil},
	{"nsp event id", `2/chat,12["chat message","hello world"]`, nil},
	{"binary event", `51-["upload",{"name":"photo.jpg","data":{"_placeholder":true,"num":0}}]`, [][]byte{make([]byte, 1024)}},
	{"ack", `342["ok",{"n":1}]`, nil},
	{"connect auth", `0/admin,{"token":"eyJhbGciOiJIUzI1NiJ9.e30.abc"}`, nil},
	{"large event", `2["bulk",[` + strings.Repeat(`{"id":12345,"name":"item name \"quoted\"","tags":["a","b"],"price":12.5},`, 99) +
		`{"id":12345,"name":"item","tags":[],"price":1}]]`, nil},
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			in := []byte(tc.wire)
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			var p Packet
			for b.Loop() {
				if err := Decode(in, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			var p Packet
			if err := Decode([]byte(tc.wire), &p); err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, 0, len(tc.wire)+16)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.wire)))
			for b.Loop() {
				dst = AppendPacket(dst[:0], &p)
			}
		})
	}
}

// BenchmarkDecodeEvent is the server's read path for an event: decode, name, arguments.
func BenchmarkDecodeEvent(b *testing.B) {
	in := []byte(benchCases[0].wire)
	var p Packet
	var buf [64]byte
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(in, &p); err != nil {
			b.Fatal(err)
		}
		name, rest, _ := EventName(p.Data)
		_, _ = Unquote(buf[:0], name)
		it := ArgsIter(rest)
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
	}
}

func BenchmarkAppendResolved(b *testing.B) {
	tc := benchCases[2]
	var p Packet
	if err := Decode([]byte(tc.wire), &p); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendResolved(dst[:0], p.Data, tc.atts)
	}
}

func BenchmarkValid(b *testing.B) {
	data := []byte(benchCases[5].wire[1:])
	b.Run("sio", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			Valid(data)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			json.Valid(data)
		}
	})
}

func BenchmarkAppendArgs(b *testing.B) {
	bin := make([]byte, 1024)
	for _, tc := range []struct {
		name string
		args []any
	}{
		{"strings", []any{"chat message", "hello world"}},
		{"scalars", []any{"tick", 12345, 1.5, true, nil}},
		{"raw", []any{"state", json.RawMessage(`{"user":"ana","n":1}`)}},
		{"binary", []any{"upload", map[string]any{"name": "photo.jpg", "data": bin}}},
		{"struct", []any{"state", struct {
			User string `json:"user"`
			N    int    `json:"n"`
		}{"ana", 1}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dst := make([]byte, 0, 256)
			atts := make([][]byte, 0, 4)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, atts, err = AppendArgs(dst[:0], atts[:0], tc.args...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendQuote(b *testing.B) {
	s := "hello world, \"quoted\" and unicode é中 text\n"
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		dst = AppendQuote(dst[:0], s)
	}
}
