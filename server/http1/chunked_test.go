package http1

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/riptide-io/riptide/internal/allocs"
)

func caseMax(m int64) int64 {
	switch m {
	case 0:
		return 1 << 20
	case -1:
		return 0
	}
	return m
}

func (tc chunkedCase) length() int {
	if tc.consumed != 0 {
		return tc.consumed
	}
	return len(tc.in)
}

// scanDrip feeds buf to a fresh state one byte longer at a time, each call on
// an exact-length copy so a read past the end panics, and returns the first
// result that is done or an error, with the length it was seen at.
func scanDrip(t testing.TB, buf []byte, max int64) (at int, done bool, consumed int, err error) {
	t.Helper()
	var st ChunkedState
	for i := 0; i <= len(buf); i++ {
		p := append([]byte(nil), buf[:i]...)
		done, consumed, err = st.Scan(p, max)
		if done || err != nil {
			return i, done, consumed, err
		}
		if consumed != 0 {
			t.Fatalf("incomplete at %d but consumed %d", i, consumed)
		}
	}
	return len(buf), false, 0, nil
}

func TestChunkedValid(t *testing.T) {
	for _, tc := range chunkedCases {
		t.Run(tc.name, func(t *testing.T) {
			max, n := caseMax(tc.max), tc.length()
			check := func(how string, done bool, consumed int, err error) {
				t.Helper()
				if !done || consumed != n || err != nil {
					t.Fatalf("%s: Scan = %v, %d, %v; want true, %d, nil", how, done, consumed, err, n)
				}
			}
			var st ChunkedState
			done, consumed, err := st.Scan([]byte(tc.in), max)
			check("whole", done, consumed, err)
			done, consumed, err = st.Scan([]byte(tc.in), max) // done stays done
			check("again", done, consumed, err)

			// Two pieces, split everywhere.
			for i := 0; i <= len(tc.in); i++ {
				var st ChunkedState
				done, consumed, err := st.Scan([]byte(tc.in[:i]), max)
				if i < n {
					if done || consumed != 0 || err != nil {
						t.Fatalf("prefix %d: Scan = %v, %d, %v; want incomplete", i, done, consumed, err)
					}
					done, consumed, err = st.Scan([]byte(tc.in), max)
				}
				check(fmt.Sprintf("split at %d", i), done, consumed, err)
			}
			// A byte at a time: done exactly when the last byte arrives.
			at, done, consumed, err := scanDrip(t, []byte(tc.in), max)
			check("drip", done, consumed, err)
			if at != n {
				t.Fatalf("drip: done at %d bytes, want %d", at, n)
			}

			buf := []byte(tc.in)
			body := DecodeChunkedInPlace(buf[:n])
			if string(body) != tc.want || !within(buf[:n], body) {
				t.Fatalf("decoded %q, want %q", body, tc.want)
			}
			if string(buf[n:]) != tc.in[n:] {
				t.Fatalf("decode wrote past the body: %q", buf[n:])
			}
		})
	}
}

func TestChunkedMalformed(t *testing.T) {
	for _, tc := range malformedChunkedCases {
		t.Run(tc.name, func(t *testing.T) {
			max := caseMax(tc.max)
			var st ChunkedState
			if done, consumed, err := st.Scan([]byte(tc.in), max); err != tc.err || done || consumed != 0 {
				t.Fatalf("whole: Scan = %v, %d, %v; want %v", done, consumed, err, tc.err)
			}
			at, _, _, err := scanDrip(t, []byte(tc.in), max)
			if err != tc.err {
				t.Fatalf("drip: %v at %d bytes, want %v", err, at, tc.err)
			}
			// Split anywhere: incomplete then the error, or the error at once
			// when it lies in the first piece.
			for i := 0; i <= len(tc.in); i++ {
				var st ChunkedState
				_, _, err := st.Scan([]byte(tc.in[:i]), max)
				switch {
				case err == nil && i < at:
					_, _, err = st.Scan([]byte(tc.in), max)
				case err == nil:
					t.Fatalf("split at %d: no error, but the drip failed at %d", i, at)
				case i < at:
					t.Fatalf("split at %d: %v before the drip failed at %d", i, err, at)
				}
				if err != tc.err {
					t.Fatalf("split at %d: %v, want %v", i, err, tc.err)
				}
			}
		})
	}
}

// TestChunkedLimits checks the two bounds on what a connection must buffer:
// MaxChunkLine per size line, MaxChunkFraming over the data declared.
func TestChunkedLimits(t *testing.T) {
	scan := func(in string, max int64) error {
		var st ChunkedState
		_, _, err := st.Scan([]byte(in), max)
		return err
	}
	ext := ";" + strings.Repeat("e", MaxChunkLine-2) // "5" + ext is exactly MaxChunkLine
	if err := scan("5"+ext+"\r\nhello\r\n0\r\n\r\n", 1<<20); err != nil {
		t.Fatalf("line of MaxChunkLine: %v", err)
	}
	if err := scan("5"+ext+"e\r\n", 1<<20); err != ErrChunkLineTooLong {
		t.Fatalf("line over MaxChunkLine: %v", err)
	}
	if err := scan("0"+strings.Repeat("0", MaxChunkLine), 1<<20); err != ErrChunkLineTooLong {
		t.Fatalf("leading zeros over MaxChunkLine: %v", err)
	}

	// Framing may exceed the data declared by MaxChunkFraming, not a byte more.
	// One-byte chunks cost 5 bytes of framing each ("1\r\n", "\r\n").
	var b strings.Builder
	k := 0
	for ; b.Len()+6 <= MaxChunkFraming*3/2; k++ {
		b.WriteString("1\r\nx\r\n")
	}
	small := b.String()
	var st ChunkedState
	_, _, err := st.Scan([]byte(small+"0\r\n\r\n"), 1<<20)
	framing := b.Len() - k
	if want := framing+5 > MaxChunkFraming+k; (err == ErrChunkFraming) != want || err != nil && err != ErrChunkFraming {
		t.Fatalf("%d one-byte chunks (framing %d): %v", k, framing, err)
	}
	for k := 1; k < 20000; k *= 3 {
		body := strings.Repeat("1\r\nx\r\n", k) + "0\r\n\r\n"
		var st ChunkedState
		done, n, err := st.Scan([]byte(body), 1<<20)
		want := 5*k+5 > MaxChunkFraming+k
		if want && err != ErrChunkFraming || !want && (!done || n != len(body)) {
			t.Fatalf("%d one-byte chunks: %v, %d, %v (over the framing limit: %v)", k, done, n, err, want)
		}
	}
	// Trailers count as framing too.
	trailer := func(n int) string { return "0\r\nX: " + strings.Repeat("t", n-10) + "\r\n\r\n" }
	if err := scan(trailer(MaxChunkFraming), 1<<20); err != nil {
		t.Fatalf("trailers of MaxChunkFraming: %v", err)
	}
	if err := scan(trailer(MaxChunkFraming+1), 1<<20); err != ErrChunkFraming {
		t.Fatalf("trailers over MaxChunkFraming: %v", err)
	}
	// So a refused-or-incomplete body never holds more than 2*max+MaxChunkFraming bytes:
	// 8-byte chunks of data stay well inside it.
	big := strings.Repeat("8\r\n01234567\r\n", 10000) + "0\r\n\r\n"
	st = ChunkedState{}
	if done, n, err := st.Scan([]byte(big), 80000); !done || n != len(big) || err != nil {
		t.Fatalf("8-byte chunks: %v %d %v", done, n, err)
	}
	if got := DecodeChunkedInPlace([]byte(big)); len(got) != 80000 || string(got[:16]) != "0123456701234567" {
		t.Fatalf("8-byte chunks decoded to %d bytes", len(got))
	}
}

// TestChunkedResumes checks that a body arriving a byte at a time is not
// rescanned: the work per call is what arrived since the last one.
func TestChunkedResumes(t *testing.T) {
	body := []byte(strings.Repeat("8;e\r\n01234567\r\n", 2000) + "0\r\n\r\n")
	var st ChunkedState
	for i := 1; i < len(body); i++ {
		before := st.off
		if done, _, err := st.Scan(body[:i], 1<<20); done || err != nil {
			t.Fatalf("at %d: %v %v", i, done, err)
		}
		if before != i-1 || st.off != i {
			t.Fatalf("at %d: resumed from %d to %d", i, before, st.off)
		}
	}
	if done, n, err := st.Scan(body, 1<<20); !done || n != len(body) || err != nil {
		t.Fatal(done, n, err)
	}
}

func TestChunkedNoAlloc(t *testing.T) {
	bufs := make([][]byte, 0, len(chunkedCases))
	for _, tc := range chunkedCases {
		bufs = append(bufs, []byte(tc.in))
	}
	bad := []byte(malformedChunkedCases[0].in)
	allocs.MustNotAllocate(t, func() {
		for _, b := range bufs {
			var st ChunkedState
			_, _, _ = st.Scan(b[:len(b)/2], 1<<20)
			_, _, _ = st.Scan(b, 1<<20)
		}
		var st ChunkedState
		_, _, _ = st.Scan(bad, 1<<20)
	})
	// Decoding overwrites its input: decode fresh copies, made outside the measurement.
	copies := make([][]byte, 0, 200*len(bufs))
	for range 202 {
		for _, b := range bufs {
			copies = append(copies, bytes.Clone(b))
		}
	}
	k := 0
	allocs.MustNotAllocate(t, func() {
		for range bufs {
			_ = DecodeChunkedInPlace(copies[k])
			k++
		}
	})
}

// TestChunkedAfterParse runs the engine's sequence on Node's streamed POST:
// parse the head, scan the body that follows it, decode, find the next request.
func TestChunkedAfterParse(t *testing.T) {
	stream := []byte(nodeChunkedPOSTHead + nodeChunkedBody + nodePollingGET)
	var r Request
	var st ChunkedState
	for i := 1; i <= len(stream); i++ {
		buf := stream[:i]
		n, err := Parse(buf, &r, 0)
		if err == ErrIncomplete {
			continue
		}
		if err != nil || !r.Chunked || r.ContentLength != -1 {
			t.Fatalf("at %d: %v, chunked %v", i, err, r.Chunked)
		}
		done, m, err := st.Scan(buf[n:], 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if !done {
			continue
		}
		if n+m != len(nodeChunkedPOSTHead)+len(nodeChunkedBody) {
			t.Fatalf("head %d + body %d", n, m)
		}
		sid, _ := r.QueryValue("sid")
		body := DecodeChunkedInPlace(buf[n : n+m])
		if string(body) != "4hello\x1e42[\"chat\",\"h\xc3\xa9llo\"]" || string(sid) != "abc" {
			t.Fatalf("body %q sid %q", body, sid)
		}
		if n2, err := Parse(stream[n+m:], &r, 0); err != nil || n2 != len(nodePollingGET) {
			t.Fatalf("next request: %d %v", n2, err)
		}
		return
	}
	t.Fatal("never done")
}
