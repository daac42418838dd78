package http1

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add([]byte(tc.in), uint16(0))
	}
	for _, tc := range malformedCases {
		f.Add([]byte(tc.in), uint16(0))
	}
	f.Add([]byte(nodePollingPOST+nodePollingGET), uint16(300))
	f.Add([]byte(chromePollingGET), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		maxHead := int(limit % 4096) // 0 means DefaultMaxHead
		var r Request
		n, err := Parse(data, &r, maxHead)
		if n < 0 || n > len(data) {
			t.Fatalf("n = %d outside [0, %d]", n, len(data))
		}
		if err != nil {
			if n != 0 || r.Method != nil || len(r.Headers) != 0 || r.ContentLength != -1 {
				t.Fatalf("error %v with n=%d or a request not reset", err, n)
			}
			if err == ErrIncomplete {
				eff := maxHead
				if eff == 0 {
					eff = DefaultMaxHead
				}
				if len(data) > eff {
					t.Fatalf("ErrIncomplete with %d bytes over maxHead %d", len(data), eff)
				}
				if e := FindHeadEnd(data, 0); e >= 0 {
					t.Fatalf("ErrIncomplete but FindHeadEnd = %d", e)
				}
			}
			return
		}
		if n == 0 || (maxHead > 0 && n > maxHead) {
			t.Fatalf("n = %d with maxHead %d", n, maxHead)
		}
		if !bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) {
			t.Fatalf("head %q does not end with CRLFCRLF", data[:n])
		}
		checkWithin(t, data[:n], &r)
		if len(r.Method) == 0 || len(r.Target) == 0 || r.Minor > 1 || len(r.Headers) > MaxHeaders {
			t.Fatalf("bad request %+v", r)
		}
		if r.Chunked && r.ContentLength >= 0 {
			t.Fatal("both Chunked and ContentLength")
		}
		if r.Minor == 1 && r.Host == nil {
			t.Fatal("HTTP/1.1 without Host accepted")
		}
		for _, h := range r.Headers {
			if len(h.Name) == 0 || bytes.ContainsAny(h.Value, "\r\n\x00") || bytes.ContainsAny(h.Name, ": \t\r\n") {
				t.Fatalf("bad header %q: %q", h.Name, h.Value)
			}
		}
		if e := FindHeadEnd(data, 0); e != n {
			t.Fatalf("FindHeadEnd = %d, Parse n = %d", e, n)
		}
		// The head alone parses the same; every shorter prefix is incomplete
		// and the resumed FindHeadEnd finds the end only at n.
		head := append([]byte(nil), data[:n]...)
		var r2 Request
		if n2, err := Parse(head, &r2, maxHead); err != nil || n2 != n || string(r2.Target) != string(r.Target) ||
			len(r2.Headers) != len(r.Headers) || r2.ContentLength != r.ContentLength || r2.KeepAlive != r.KeepAlive {
			t.Fatalf("head alone: %d, %v", n2, err)
		}
		scanned := 0
		for i := 0; i < n; i++ {
			if _, err := Parse(head[:i], &r2, maxHead); err != ErrIncomplete {
				t.Fatalf("prefix %d of a valid head: %v", i, err)
			}
			if e := FindHeadEnd(head[:i], scanned); e != -1 {
				t.Fatalf("prefix %d: FindHeadEnd = %d", i, e)
			}
			scanned = i
		}
		if e := FindHeadEnd(head, scanned); e != n {
			t.Fatalf("resumed FindHeadEnd = %d, want %d", e, n)
		}
	})
}

func FuzzQueryValue(f *testing.F) {
	for _, tc := range validCases {
		if i := strings.IndexByte(tc.target, '?'); i >= 0 {
			f.Add([]byte(tc.target[i+1:]), "sid")
			f.Add([]byte(tc.target[i+1:]), "t")
		}
	}
	f.Add([]byte("EIO=4&transport=polling&t=x&b64"), "b64")
	f.Add([]byte("a&&=&b=%zz&c=%41+b"), "c")
	f.Add([]byte("sid=ab%2Bc%3D%3D"), "sid")
	f.Fuzz(func(t *testing.T, query []byte, key string) {
		v, ok := LookupQuery(query, key)
		// Reference: split on '&', skip empty pairs, cut at the first '='.
		var want string
		found := false
		for _, pair := range strings.Split(string(query), "&") {
			if pair == "" {
				continue
			}
			k, val, _ := strings.Cut(pair, "=")
			if k == key {
				want, found = val, true
				break
			}
		}
		if ok != found || string(v) != want || ok && v == nil {
			t.Fatalf("LookupQuery(%q, %q) = %q, %v; want %q, %v", query, key, v, ok, want, found)
		}
		if !within(query, v) {
			t.Fatal("value outside the query")
		}
		// AppendUnescape agrees with url.QueryUnescape, errors included.
		for _, in := range [][]byte{v, query} {
			got, err := AppendUnescape([]byte("x"), in)
			ref, rerr := url.QueryUnescape(string(in))
			if (err != nil) != (rerr != nil) {
				t.Fatalf("AppendUnescape(%q) err %v, url.QueryUnescape err %v", in, err, rerr)
			}
			if err == nil && string(got) != "x"+ref {
				t.Fatalf("AppendUnescape(%q) = %q, want %q", in, got[1:], ref)
			}
			if err != nil && string(got) != "x" {
				t.Fatalf("dst changed on error: %q", got)
			}
			if err == nil && NeedsUnescape(in) == (ref == string(in) && !bytes.ContainsAny(in, "%+")) {
				t.Fatalf("NeedsUnescape(%q) wrong", in)
			}
		}
	})
}
