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

// FuzzChunked checks Scan against refChunked, a whole-buffer reading of the
// same grammar and limits written the other way round (line by line), and
// that the result does not depend on how the bytes arrive.
func FuzzChunked(f *testing.F) {
	for _, tc := range chunkedCases {
		f.Add([]byte(tc.in), uint32(caseMax(tc.max)), uint16(len(tc.in)/2))
	}
	for _, tc := range malformedChunkedCases {
		f.Add([]byte(tc.in), uint32(caseMax(tc.max)), uint16(len(tc.in)/2))
	}
	f.Add([]byte(nodeChunkedBody+nodeChunkedBody), uint32(1e6), uint16(7))
	f.Add([]byte(strings.Repeat("1\r\nx\r\n", 100)+"0\r\n\r\n"), uint32(50), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, max uint32, split uint16) {
		m := int64(max % (1 << 20))
		var st ChunkedState
		done, n, err := st.Scan(data, m)
		if n < 0 || n > len(data) || (done || err != nil) && done == (err != nil) || !done && n != 0 {
			t.Fatalf("Scan = %v, %d, %v", done, n, err)
		}
		refOK, refN, refBody := refChunked(data, m)
		if done != refOK || done && n != refN {
			t.Fatalf("Scan = %v, %d, %v; reference %v, %d", done, n, err, refOK, refN)
		}
		// In two pieces.
		k := int(split) % (len(data) + 1)
		var st2 ChunkedState
		done2, n2, err2 := st2.Scan(data[:k], m)
		if !done2 && err2 == nil {
			done2, n2, err2 = st2.Scan(data, m)
		}
		if done2 != done || n2 != n || err2 != err {
			t.Fatalf("split at %d: %v, %d, %v; whole: %v, %d, %v", k, done2, n2, err2, done, n, err)
		}
		if len(data) <= 300 {
			if _, d, c, e := scanDrip(t, data, m); d != done || c != n || e != err {
				t.Fatalf("drip: %v, %d, %v; whole: %v, %d, %v", d, c, e, done, n, err)
			}
		}
		if !done {
			return
		}
		if int64(n) > 2*m+MaxChunkFraming {
			t.Fatalf("body of %d bytes for max %d", n, m)
		}
		buf := bytes.Clone(data)
		body := DecodeChunkedInPlace(buf[:n])
		if !bytes.Equal(body, refBody) || int64(len(body)) > m || !within(buf[:n], body) || !bytes.Equal(buf[n:], data[n:]) {
			t.Fatalf("decoded %q, reference %q", body, refBody)
		}
	})
}

// refChunked is the reference for FuzzChunked: whether data starts with a
// complete chunked body Scan must accept, its length and its content.
func refChunked(data []byte, max int64) (ok bool, n int, body []byte) {
	pos, declared := 0, int64(0)
	// framingOK checks the framing up to end against the data declared.
	framingOK := func(end int) bool { return int64(end)-declared <= MaxChunkFraming+declared }
	line := func() ([]byte, bool) {
		i := bytes.Index(data[pos:], []byte("\r\n"))
		if i < 0 {
			return nil, false
		}
		l := data[pos : pos+i]
		pos += i + 2
		return l, !bytes.ContainsAny(l, "\r\n")
	}
	for {
		l, good := line()
		if !good || len(l) > MaxChunkLine || !framingOK(pos) {
			return false, 0, nil
		}
		hex, ext, _ := bytes.Cut(l, []byte(";"))
		if len(hex) == 0 || len(hex) < len(l) && !refExtensions(l[len(hex):]) {
			return false, 0, nil
		}
		_ = ext
		size := int64(0)
		for _, c := range hex {
			d := unhex(c)
			if d > 15 || size >= 1<<59 {
				return false, 0, nil
			}
			size = size*16 + int64(d)
		}
		if size > max-declared {
			return false, 0, nil
		}
		declared += size
		if size == 0 {
			break
		}
		if len(data)-pos < int(size)+2 || string(data[pos+int(size):pos+int(size)+2]) != "\r\n" {
			return false, 0, nil
		}
		body = append(body, data[pos:pos+int(size)]...)
		pos += int(size) + 2
		if !framingOK(pos) {
			return false, 0, nil
		}
	}
	for {
		l, good := line()
		if !good || !framingOK(pos) {
			return false, 0, nil
		}
		if len(l) == 0 {
			return true, pos, append([]byte{}, body...)
		}
		name, value, found := bytes.Cut(l, []byte(":"))
		if !found || len(name) == 0 || strings.EqualFold(string(name), "content-length") ||
			strings.EqualFold(string(name), "transfer-encoding") {
			return false, 0, nil
		}
		for _, c := range name {
			if !isToken[c] {
				return false, 0, nil
			}
		}
		for _, c := range value {
			if c != '\t' && (c < ' ' || c == 0x7f) {
				return false, 0, nil
			}
		}
	}
}

// refExtensions reports whether ext is *( ";" token [ "=" ( token / quoted-string ) ] ).
func refExtensions(ext []byte) bool {
	token := func(s []byte) int {
		i := 0
		for i < len(s) && isToken[s[i]] {
			i++
		}
		return i
	}
	for len(ext) > 0 {
		if ext[0] != ';' {
			return false
		}
		ext = ext[1:]
		i := token(ext)
		if i == 0 {
			return false
		}
		ext = ext[i:]
		if len(ext) == 0 || ext[0] != '=' {
			continue
		}
		ext = ext[1:]
		if len(ext) > 0 && ext[0] == '"' {
			j := 1
			for ; j < len(ext) && ext[j] != '"'; j++ {
				c := ext[j]
				if c == '\\' {
					j++
					if j == len(ext) || ext[j] != '\t' && (ext[j] < ' ' || ext[j] == 0x7f) {
						return false
					}
					continue
				}
				if c != '\t' && (c < ' ' || c == 0x7f) {
					return false
				}
			}
			if j == len(ext) {
				return false
			}
			ext = ext[j+1:]
			continue
		}
		if i = token(ext); i == 0 {
			return false
		}
		ext = ext[i:]
	}
	return true
}
