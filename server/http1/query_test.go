package http1

import (
	"net/url"
	"testing"

	"github.com/riptide-io/riptide/internal/allocs"
)

func TestLookupQuery(t *testing.T) {
	for _, tc := range []struct {
		query, key string
		want       string
		ok         bool
	}{
		{"EIO=4&transport=polling&t=PGz8sXk", "EIO", "4", true},             // key at start
		{"EIO=4&transport=polling&t=PGz8sXk", "t", "PGz8sXk", true},         // key at end
		{"EIO=4&transport=polling&t=PGz8sXk", "transport", "polling", true}, // middle
		{"transport=polling&t=x", "t", "x", true},                           // "t" is a prefix of "transport"
		{"transport=polling", "t", "", false},
		{"transport=polling", "transportx", "", false},
		{"tt=1&t=2", "t", "2", true},
		{"t=1&t=2", "t", "1", true}, // first wins
		{"sid=&EIO=4", "sid", "", true},
		{"EIO=4&sid=", "sid", "", true},
		{"EIO=4&b64", "b64", "", true}, // bare key
		{"b64&EIO=4", "b64", "", true},
		{"a=1=2", "a", "1=2", true}, // only the first '=' splits
		{"a&&b=2", "b", "2", true},
		{"&&&", "", "", false},
		{"=x", "", "x", true},
		{"", "EIO", "", false},
		{"EIO=4", "eio", "", false}, // case matters, as in Node
		{"sid=ab%2Bc", "sid", "ab%2Bc", true},
		{"x=1;sid=2", "sid", "", false}, // ';' is not a separator for querystring
	} {
		v, ok := LookupQuery([]byte(tc.query), tc.key)
		if ok != tc.ok || string(v) != tc.want || ok && v == nil {
			t.Errorf("LookupQuery(%q, %q) = %q, %v (nil %v); want %q, %v", tc.query, tc.key, v, ok, v == nil, tc.want, tc.ok)
		}
	}
}

func TestAppendUnescape(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"", "", false},
		{"polling", "polling", false},
		{"a+b", "a b", false},
		{"%2B%2b%20", "++ ", false},
		{"%e2%82%AC", "\u20ac", false},
		{"%00", "\x00", false},
		{"100%", "", true},
		{"%4", "", true},
		{"%zz", "", true},
		{"%g0", "", true},
		{"ok%2", "", true},
	} {
		dst := []byte("pre:")
		got, err := AppendUnescape(dst, []byte(tc.in))
		if (err != nil) != tc.bad {
			t.Errorf("AppendUnescape(%q) error %v, want bad=%v", tc.in, err, tc.bad)
			continue
		}
		if tc.bad {
			if err != ErrBadEscape || string(got) != "pre:" {
				t.Errorf("AppendUnescape(%q) = %q, %v; want dst unchanged and ErrBadEscape", tc.in, got, err)
			}
			continue
		}
		if string(got) != "pre:"+tc.want {
			t.Errorf("AppendUnescape(%q) = %q, want %q", tc.in, got, "pre:"+tc.want)
		}
		if ref, _ := url.QueryUnescape(tc.in); ref != tc.want {
			t.Errorf("url.QueryUnescape(%q) = %q, table says %q", tc.in, ref, tc.want)
		}
		if NeedsUnescape([]byte(tc.in)) != (tc.in != tc.want) {
			t.Errorf("NeedsUnescape(%q) wrong", tc.in)
		}
	}
}

func TestQueryNoAlloc(t *testing.T) {
	q := []byte("EIO=4&transport=polling&t=PGz8sXk&sid=ab%2Bc%3D%3D")
	dst := make([]byte, 0, 64)
	allocs.MustNotAllocate(t, func() {
		v, _ := LookupQuery(q, "sid")
		_, _ = LookupQuery(q, "missing")
		_, _ = AppendUnescape(dst[:0], v)
		_ = NeedsUnescape(v)
	})
}
