package sio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStringifyNode compares AppendValue with Node's JSON.stringify, byte for byte, on
// generated values: float64 bit patterns of every kind and nested values of the types
// AppendValue walks. Node gets the same values with each float as its bits.
func TestStringifyNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH: JSON.stringify comparison skipped")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var vals []any
	for _, f := range genFloats(r) {
		vals = append(vals, f)
	}
	for range 2000 {
		vals = append(vals, genValue(r, 0))
	}
	var in bytes.Buffer
	for _, v := range vals {
		in.Write(appendSpec(nil, reflect.ValueOf(v)))
		in.WriteByte('\n')
	}
	cmd := exec.Command(node, "testdata/stringify.js")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(vals) {
		t.Fatalf("node wrote %d lines for %d values", len(want), len(vals))
	}
	fails := 0
	for i, v := range vals {
		got, atts, err := AppendValue(nil, nil, v)
		if err != nil || len(atts) != 0 {
			t.Fatalf("AppendValue(%#v): %v, %d attachments", v, err, len(atts))
		}
		if string(got) != want[i] {
			if f, ok := v.(float64); ok {
				t.Errorf("float %v (bits %#016x): got %s, JSON.stringify %s", f, math.Float64bits(f), got, want[i])
			} else {
				t.Errorf("value %d: got\n%s\nJSON.stringify\n%s", i, got, want[i])
			}
			if fails++; fails == 20 {
				t.Fatal("too many differences")
			}
		}
	}
}

// genFloats returns the float64 values where formatting goes wrong: the edges of the decimal
// range (1e-7, 1e-6, 1e20, 1e21) and their neighbours, every power of ten, subnormals, the
// extremes, integers around 2^53, -0, NaN, the infinities, random bit patterns and random
// short decimals.
func genFloats(r *rand.Rand) []float64 {
	fs := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 0x1p-1022, 0x1p-1022 - 5e-324,
		1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, math.Pi, math.E, 5e-324, 1.7976931348623157e308}
	near := func(f float64) {
		up, down := f, f
		for range 3 {
			up, down = math.Nextafter(up, math.Inf(1)), math.Nextafter(down, math.Inf(-1))
			fs = append(fs, up, down, -up, -down)
		}
		fs = append(fs, f, -f)
	}
	for e := -325; e <= 309; e++ {
		f, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		near(f)
		for _, m := range []string{"1.5", "9.999999", "123456789", "5", "2.2250738585072014"} {
			f, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(e), 64)
			fs = append(fs, f)
		}
	}
	for k := -4.0; k <= 4; k++ {
		fs = append(fs, 1<<53+k, -(1<<53 + k), 1<<54+2*k, 1<<63+k*1024, 1<<64)
	}
	for range 10000 {
		f := math.Float64frombits(r.Uint64())
		fs = append(fs, f)
	}
	for range 3000 {
		fs = append(fs, math.Float64frombits(r.Uint64N(1<<52)))                             // subnormal
		fs = append(fs, float64(r.Int64N(1e9))*math.Pow10(r.IntN(60)-30))                   // short decimal
		fs = append(fs, float64(r.Int64N(1<<53))/float64(r.Int64N(1<<20)+1))                // ratios
		fs = append(fs, math.Float64frombits(math.Float64bits(1e21)+uint64(r.IntN(64))-32)) // 1e21 edge
	}
	return fs
}

// genValue returns a random value of the types AppendValue walks, nested up to 5 levels.
func genValue(r *rand.Rand, depth int) any {
	n := 11
	if depth >= 5 {
		n = 6 // leaves only
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return genString(r)
	case 3:
		return r.Int64N(1<<54) - 1<<53
	case 4:
		return math.Float64frombits(r.Uint64())
	case 5:
		return float64(r.IntN(2e6)-1e6) / 1000
	case 6:
		s := make([]any, r.IntN(5))
		for i := range s {
			s[i] = genValue(r, depth+1)
		}
		return s
	case 7:
		m := map[string]any{}
		for range r.IntN(5) {
			m[genKey(r)] = genValue(r, depth+1)
		}
		return m
	case 8:
		var o Object
		for range r.IntN(5) {
			k := genKey(r)
			if !slices.ContainsFunc(o, func(f Field) bool { return f.Key == k }) { // JSON.stringify writes a key once
				o = append(o, Field{Key: k, Value: genValue(r, depth+1)})
			}
		}
		return o
	case 9:
		s := make([]float64, r.IntN(4))
		for i := range s {
			s[i] = math.Float64frombits(r.Uint64())
		}
		return s
	default:
		return map[string]score{genKey(r): score(r.NormFloat64() * 1e20), genKey(r): score(math.Copysign(0, -1))}
	}
}

// genKey returns an object key JavaScript keeps in insertion order (not an array index), in
// valid UTF-8 (two keys that differ in invalid bytes are one key in JavaScript).
func genKey(r *rand.Rand) string { return strings.ToValidUTF8("k"+genString(r), "") }

var runePool = []rune{'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\b', '\f', '\r', 0, 1, 0x1f, 0x7f,
	'<', '>', '&', 'é', '中', 0x2028, 0x2029, 0xfeff, 0xfffd, '😀', 0x10ffff}

func genString(r *rand.Rand) string {
	b := make([]byte, 0, 16)
	for range r.IntN(8) {
		if r.IntN(20) == 0 {
			b = append(b, 0xff) // invalid UTF-8: both sides see U+FFFD
			continue
		}
		b = utf8.AppendRune(b, runePool[r.IntN(len(runePool))])
	}
	return string(b)
}

// appendSpec writes v as JSON for stringify.js: floats as "#f<bits>", objects in the order
// AppendValue writes them (Object as given, maps sorted), strings by encoding/json.
func appendSpec(dst []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.Invalid:
		return append(dst, "null"...)
	case reflect.Interface:
		if v.IsNil() {
			return append(dst, "null"...)
		}
		return appendSpec(dst, v.Elem())
	case reflect.Float64:
		return fmt.Appendf(dst, `"#f%016x"`, math.Float64bits(v.Float()))
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[Object]() {
			dst = append(dst, '{')
			for i, f := range v.Interface().(Object) {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendSpecString(dst, f.Key)
				dst = append(dst, ':')
				dst = appendSpec(dst, reflect.ValueOf(&f.Value).Elem())
			}
			return append(dst, '}')
		}
		if v.IsNil() {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i := range v.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendSpec(dst, v.Index(i))
		}
		return append(dst, ']')
	case reflect.Map:
		if v.IsNil() {
			return append(dst, "null"...)
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendSpecString(dst, k.String())
			dst = append(dst, ':')
			dst = appendSpec(dst, v.MapIndex(k))
		}
		return append(dst, '}')
	case reflect.String:
		return appendSpecString(dst, v.String())
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		panic(err)
	}
	return append(dst, b...)
}

func appendSpecString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
