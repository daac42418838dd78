package redis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
)

type encodeCase struct {
	JSON string   `json:"json"`
	Atts []string `json:"atts"`
}

// encodeCases are JSON payloads as clients send them; notepack decides what their msgpack
// form is.
func encodeCases() []encodeCase {
	long := func(n int) string { return `"` + strings.Repeat("x", n) + `"` }
	arr := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "0"
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	obj := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `"k` + string(rune('a'+i%26)) + strings.Repeat("z", i/26) + `":` + "1"
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	cs := []encodeCase{
		{JSON: `["event",1,1.0,1.5,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,127,128,255,256,65535,65536,4294967295,4294967296]`},
		{JSON: `[9007199254740993,18446744073709551615,18446744073709551616,1e21,1e300,-1e300,0.1,-0,-0.0,1e-7,123456789012345678901234567890,-9223372036854775808,-9223372036854775809,-1e30,1e400,-1e400,1e-400,5e-324]`},
		{JSON: `["",` + long(31) + `,` + long(32) + `,` + long(255) + `,` + long(256) + `,` + long(65535) + `,` + long(65536) + `]`},
		{JSON: `["é","😀","\n\u0001\"\\/","\u2028","\ud83d\ude00","\u00e9","<>&"]`},
		{JSON: `{"b":1,"a":2,"1":3,"0":4,"01":5,"4294967295":6,"4294967294":7,"-1":8,"10":9,"2":10}`},
		{JSON: `{"a":1,"b":2,"a":3,"1":4,"1":5}`},
		{JSON: `{"__proto__":1,"x":2}`},
		{JSON: ` [ true , false , null , { } , [ ] , {"a" : [ 1 , { "b" : null } ] } ] `},
		{JSON: arr(15)}, {JSON: arr(16)}, {JSON: arr(65536)},
		{JSON: obj(15)}, {JSON: obj(16)},
		{JSON: `[{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":2}],{"_placeholder":true,"num":3}]`,
			Atts: []string{"", "010203", strings.Repeat("ab", 300), strings.Repeat("cd", 70000)}},
		{JSON: `[{"num":0,"_placeholder":true}]`, Atts: []string{"ff"}},
		{JSON: `"just a string"`}, {JSON: `42`}, {JSON: `null`},
	}
	for i := range cs {
		if cs[i].Atts == nil {
			cs[i].Atts = []string{}
		}
	}
	return cs
}

// decodeCases are msgpack values (hex) as other encoders could write them.
var decodeCases = []string{
	"93a161c40101c0",
	"ca3dcccccd",         // float 32: 0.1f
	"cb3fb999999999999a", // float 64: 0.1
	"cbbff0000000000000", // -1
	"cb8000000000000000", // -0
	"cb7ff0000000000000", // Infinity
	"cfffffffffffffffff", // uint 64 max
	"d38000000000000000", // int 64 min
	"d3ffffffffffffffff", // -1 as int 64
	"cd0100", "d1ff00", "d0ff", "e0", "ff", "7f",
	"92d40000c0",           // [undefined, null]
	"82a161d40000a162c3",   // {a: undefined, b: true}
	"d6ff5f5e1000",         // timestamp 32
	"d7ff0000000c5f5e1000", // timestamp 64
	"c70cff0000000000000000000000005f5e1000",
	"d4050a",                         // fixext 1, type 5
	"c7030701020f",                   // ext 8, type 7
	"c7020001ff",                     // ext 8 type 0: ArrayBuffer
	"83a162c0a131c3a130c2",           // {"b":null,"1":true,"0":false}
	"8301a17801a179c0a17a",           // {1:"x",1:"y",nil:"z"}: a repeated key keeps its first place
	"82a95f5f70726f746f5f5f01a17802", // {"__proto__":1,"x":2}
	"81c2c3",                         // {false: true}
	"81cb3ff8000000000000a178",       // {1.5: "x"}
	"dc0000", "de0000", "dd00000000", "df00000000",
	"d9036162ac", // str 8 "ab\xac"? (invalid UTF-8 is left out below)
	"c403010203",
	"91c50003616263",
	"a5e282ac2020", // "€  "
	"93",           // truncated
	"c1",           // never used
	"a3616263ff",   // trailing byte
}

func TestNotepackCompatibility(t *testing.T) {
	t.Parallel()
	enc := encodeCases()
	var dec []string
	for _, h := range decodeCases {
		if h == "d9036162ac" {
			continue // invalid UTF-8: Node replaces maximal subparts, Go each byte; no one sends it
		}
		dec = append(dec, h)
	}
	in, _ := json.Marshal(map[string]any{"encode": enc, "decode": dec})
	file := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	raw := nodetest.Run(t, 60*time.Second, "cluster/notepack-check.js", file)
	var res struct {
		Encoded []string `json:"encoded"`
		Decoded []struct {
			JSON  *string  `json:"json"`
			Atts  []string `json:"atts"`
			Error string   `json:"error"`
		} `json:"decoded"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	for i, c := range enc {
		var atts [][]byte
		for _, h := range c.Atts {
			b, _ := hex.DecodeString(h)
			atts = append(atts, b)
		}
		got, err := jsonToMsgpack(nil, []byte(c.JSON), atts)
		if err != nil {
			t.Errorf("encode %s: %v", clip(c.JSON), err)
			continue
		}
		if want := res.Encoded[i]; hex.EncodeToString(got) != want {
			t.Errorf("encode %s:\n got %s\nwant %s", clip(c.JSON), clip(hex.EncodeToString(got)), clip(want))
		}
		// And back: what a Node node would send its clients.
		js, gotAtts, err := msgpackToJSON(nil, got, nil)
		if err != nil {
			t.Errorf("decode of encode %s: %v", clip(c.JSON), err)
			continue
		}
		if len(gotAtts) != len(atts) {
			t.Errorf("round trip %s: %d attachments, want %d", clip(c.JSON), len(gotAtts), len(atts))
		}
		_ = js
	}
	for i, h := range dec {
		b, _ := hex.DecodeString(h)
		got, atts, err := msgpackToJSON(nil, b, nil)
		want := res.Decoded[i]
		if want.Error != "" {
			if err == nil {
				t.Errorf("decode %s: got %s, want an error (notepack: %s)", h, got, want.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("decode %s: %v, want %s", h, err, *want.JSON)
			continue
		}
		if string(got) != *want.JSON {
			t.Errorf("decode %s:\n got %s\nwant %s", h, got, *want.JSON)
		}
		var gotHex []string
		for _, a := range atts {
			gotHex = append(gotHex, hex.EncodeToString(a))
		}
		if strings.Join(gotHex, ",") != strings.Join(want.Atts, ",") {
			t.Errorf("decode %s: attachments %v, want %v", h, gotHex, want.Atts)
		}
	}
}

// TestTranscodeRoundTrip: what riptide encodes, riptide decodes to the same JSON (key order
// aside, which follows JavaScript's property order).
func TestTranscodeRoundTrip(t *testing.T) {
	cases := []string{
		`["e",1,"x",{"a":[true,null,1.5]},[]]`,
		`["e",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]`,
		`{"1":2,"b":1}`,
	}
	atts := [][]byte{{1, 2, 3}, {}}
	for _, c := range cases {
		mp, err := jsonToMsgpack(nil, []byte(c), atts)
		if err != nil {
			t.Fatal(c, err)
		}
		js, got, err := msgpackToJSON(nil, mp, nil)
		if err != nil {
			t.Fatal(c, err)
		}
		if string(js) != c {
			t.Errorf("%s -> %s", c, js)
		}
		if strings.Contains(c, "placeholder") && (len(got) != 2 || !bytes.Equal(got[0], atts[0]) || len(got[1]) != 0) {
			t.Errorf("%s: attachments %v", c, got)
		}
	}
}

func TestTranscodeRejects(t *testing.T) {
	for _, c := range []string{``, `[`, `[1,]`, `{"a"}`, `{"a":1,}`, `"\x"`, `01`, `1.`, `-`, `tru`, `[1] x`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, err := jsonToMsgpack(nil, []byte(c), nil); err == nil {
			t.Errorf("jsonToMsgpack(%q) accepted", c)
		}
	}
	for _, h := range []string{"", "93", "c1", "a3616263ff", "dbffffffff", "dfffffffff", strings.Repeat("91", 100) + "c0"} {
		b, _ := hex.DecodeString(h)
		if _, _, err := msgpackToJSON(nil, b, nil); err == nil {
			t.Errorf("msgpackToJSON(%s) accepted", h)
		}
	}
}

func FuzzMsgpackToJSON(f *testing.F) {
	for _, h := range decodeCases {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	for _, c := range encodeCases() {
		if len(c.JSON) < 2000 && len(c.Atts) == 0 {
			b, _ := jsonToMsgpack(nil, []byte(c.JSON), nil)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		js, atts, err := msgpackToJSON(nil, b, nil)
		if err != nil {
			return
		}
		if !json.Valid(js) {
			t.Fatalf("%x -> invalid JSON %s", b, js)
		}
		// What we decoded, we can encode again.
		if _, err := jsonToMsgpack(nil, js, atts); err != nil {
			t.Fatalf("%x -> %s: re-encode: %v", b, js, err)
		}
	})
}

func FuzzJSONToMsgpack(f *testing.F) {
	for _, c := range encodeCases() {
		if len(c.JSON) < 2000 {
			f.Add([]byte(c.JSON))
		}
	}
	f.Fuzz(func(t *testing.T, js []byte) {
		mp, err := jsonToMsgpack(nil, js, nil)
		if err != nil {
			if json.Valid(js) && !bytes.Contains(js, []byte(`\u`)) && len(js) < 1000 && depthOf(js) < maxDepth {
				t.Fatalf("valid JSON %q rejected: %v", js, err)
			}
			return
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON %q accepted", js)
		}
		if _, _, err := msgpackToJSON(nil, mp, nil); err != nil {
			t.Fatalf("%q -> %x: decode: %v", js, mp, err)
		}
	})
}

func depthOf(js []byte) int {
	d, m := 0, 0
	for _, c := range js {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
