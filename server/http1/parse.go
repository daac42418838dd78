package http1

import (
	"bytes"
	"errors"
)

// Parse errors. StatusFor maps each to the status code the server answers with
// before it closes the connection.
var (
	// ErrIncomplete means buf holds no complete head yet: consume nothing and
	// call Parse again when more bytes have arrived.
	ErrIncomplete = errors.New("http1: incomplete request head")
	// ErrHeadTooLarge means the head is longer than maxHead bytes (431, as
	// Node answers HPE_HEADER_OVERFLOW).
	ErrHeadTooLarge = errors.New("http1: request head too large")
	// ErrTooManyHeaders means the head has more than MaxHeaders header lines (431).
	ErrTooManyHeaders = errors.New("http1: too many header fields")
	// ErrMalformed is any syntax error in the request line or a header line,
	// including bare LF line endings, obs-fold and whitespace before a colon.
	ErrMalformed = errors.New("http1: malformed request head")
	// ErrUnsupportedVersion means a well-formed version other than HTTP/1.0 and HTTP/1.1.
	ErrUnsupportedVersion = errors.New("http1: unsupported HTTP version")
	// ErrBadContentLength means a Content-Length that is not a plain decimal
	// number of at most 18 digits; a list such as "5, 6" (or "5, 5") is one
	// too, as llhttp refuses it (400).
	ErrBadContentLength = errors.New("http1: bad Content-Length")
	// ErrDuplicateContentLength means two Content-Length lines, even with equal
	// values: llhttp answers HPE_UNEXPECTED_CONTENT_LENGTH either way (400).
	ErrDuplicateContentLength = errors.New("http1: duplicate Content-Length")
	// ErrBadTransferEncoding means a Transfer-Encoding whose final coding is
	// not chunked, that applies chunked twice or lists anything after it, that
	// is empty or not a token list, or any Transfer-Encoding in an HTTP/1.0
	// request: the body length cannot be determined (RFC 9112 6.1, 6.3), 400.
	ErrBadTransferEncoding = errors.New("http1: bad Transfer-Encoding")
	// ErrUnsupportedTransferCoding means a well-formed Transfer-Encoding ending
	// in chunked with another coding before it ("gzip, chunked"). The framing
	// is sound but the content would need a decoder the server lacks: RFC 9112
	// 6.1 says 501. (Node accepts it and hands the still-encoded bytes on.)
	ErrUnsupportedTransferCoding = errors.New("http1: unsupported transfer coding")
	// ErrLengthConflict means both Content-Length and Transfer-Encoding: the
	// request smuggling case of RFC 9112 6.1, rejected like Node does (400).
	ErrLengthConflict = errors.New("http1: both Content-Length and Transfer-Encoding")
	// ErrMissingHost means an HTTP/1.1 request without Host (Node 20's
	// requireHostHeader default) or a request with two Host lines (RFC 9112 3.2).
	ErrMissingHost = errors.New("http1: missing or repeated Host")
)

const (
	// MaxHeaders is the most header lines a head may carry. Browsers send about
	// twenty; the array that backs Request.Headers has this many entries.
	MaxHeaders = 64
	// DefaultMaxHead is the head size limit used when Parse gets maxHead <= 0:
	// Node's default --max-http-header-size (16 KiB).
	DefaultMaxHead = 16 << 10
)

// Header is one header line. Name is as sent (case preserved), Value has the
// surrounding spaces and tabs removed. Both point into the parsed buffer.
type Header struct{ Name, Value []byte }

// Request is one parsed request head. Every []byte field points into the buffer
// given to Parse and is valid only until the caller discards or overwrites those
// bytes (for gnet: until Discard or the return from OnTraffic); copy out what must
// survive. Keep one Request per event loop and reuse it: Headers is backed by an
// array inside the struct, so Parse never allocates. Do not copy a Request value
// (the copy's Headers would still point into the original).
type Request struct {
	Method   []byte // e.g. "GET"; any token is accepted, the router decides
	Target   []byte // request-target as sent: "/engine.io/?EIO=4&transport=polling"
	Path     []byte // Target up to '?' or '#' (the path of an absolute-form target; empty for authority-form)
	RawQuery []byte // after '?' up to '#', still percent-encoded; empty when absent
	Host     []byte // Host header value; nil when absent (allowed in HTTP/1.0 only)
	Minor    int    // HTTP/1.<Minor>: 0 or 1

	Headers []Header // every header line in order, at most MaxHeaders

	// ContentLength is the Content-Length value, -1 when absent. A request with
	// neither Content-Length nor Chunked has no body.
	ContentLength int64
	// Chunked reports Transfer-Encoding: chunked (never together with
	// Content-Length): the body that follows the head is read with a ChunkedState.
	Chunked bool
	// KeepAlive reports whether the connection stays open after the response:
	// HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
	KeepAlive bool
	// Upgrade reports an HTTP/1.1 request whose Connection list holds "upgrade"
	// and whose Upgrade list holds "websocket" (both case-insensitive). The
	// method and Sec-WebSocket-* headers are the caller's to check.
	Upgrade bool
	// ExpectContinue reports "Expect: 100-continue" on HTTP/1.1 (curl sends it
	// for bodies over 1 KiB and waits a second for "HTTP/1.1 100 Continue").
	ExpectContinue bool

	hdr [MaxHeaders]Header
}

// Reset clears r for reuse, dropping its references into the last buffer.
// Parse calls it itself.
func (r *Request) Reset() {
	clear(r.hdr[:len(r.Headers)])
	r.Method, r.Target, r.Path, r.RawQuery, r.Host = nil, nil, nil, nil, nil
	r.Minor = 0
	r.Headers = r.hdr[:0]
	r.ContentLength = -1
	r.Chunked, r.KeepAlive, r.Upgrade, r.ExpectContinue = false, false, false, false
}

// Parse parses one request head at the start of buf into r.
//
// On success n is the length of the head including its final CRLFCRLF (and any
// empty lines before the request line, which RFC 9112 2.2 says to skip); the
// body, or the next pipelined request, starts at buf[n:]. When buf holds no
// complete head Parse returns ErrIncomplete if len(buf) <= maxHead, or
// ErrHeadTooLarge if it is longer; a complete head longer than maxHead is also
// ErrHeadTooLarge, so the result does not depend on how the bytes were split.
// maxHead <= 0 means DefaultMaxHead. Every complete line, and the part of the
// last line that has arrived, is checked at once, so a client speaking TLS or
// garbage is refused from its first bytes. Errors other than ErrIncomplete are
// final: answer AppendErrorResponse(dst, StatusFor(err)) and close. After any
// error r is Reset.
//
// Line endings must be CRLF; bare LF, bare CR, obs-fold, control characters in
// values, whitespace before a colon and non-ASCII bytes in the target are
// rejected (Node's llhttp rejects the same). r's slices point into buf. Parse
// does not allocate. Event loop only, like r.
func Parse(buf []byte, r *Request, maxHead int) (n int, err error) {
	r.Reset()
	if maxHead <= 0 {
		maxHead = DefaultMaxHead
	}
	n, err = r.parse(buf[:min(len(buf), maxHead)])
	if err != nil {
		if err == ErrIncomplete && len(buf) > maxHead {
			err = ErrHeadTooLarge
		}
		r.Reset()
		return 0, err
	}
	return n, nil
}

// FindHeadEnd returns the length of the request head at the start of buf (what
// Parse would return as n, ignoring maxHead and validity), or -1 when buf holds
// no CRLFCRLF yet. scanned is len(buf) of an earlier call on the same, now
// longer, buffer that returned -1 (0 otherwise): the search resumes there
// instead of rescanning (gnet#748). Parse itself rescans from the start on every
// call; for a 581-byte Chrome head arriving one byte per read that is 146 us of
// parsing in all against 4 us with FindHeadEnd (BenchmarkDrip), i.e. ~250 ns
// per read next to a read syscall that costs more. A server that wants the
// linear bound keeps an offset per waiting connection:
//
//	if len(buf) <= maxHead && http1.FindHeadEnd(buf, st.scanned) < 0 {
//		st.scanned = len(buf)
//		return gnet.None
//	}
//	st.scanned = 0
//	n, err := http1.Parse(buf, &loop.req, maxHead)
//
// The price is later rejection of garbage: Parse refuses a bad first line at
// once, FindHeadEnd waits for CRLFCRLF or maxHead.
func FindHeadEnd(buf []byte, scanned int) int {
	start := skipEmptyLines(buf)
	// The terminator may straddle the old end: back up three bytes.
	from := max(start, min(scanned, len(buf))-3)
	if from >= len(buf) {
		return -1
	}
	if i := bytes.Index(buf[from:], crlfcrlf); i >= 0 {
		return from + i + 4
	}
	return -1
}

var crlfcrlf = []byte("\r\n\r\n")

// skipEmptyLines returns the offset past the CRLF pairs at the start of buf.
func skipEmptyLines(buf []byte) int {
	i := 0
	for i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n' {
		i += 2
	}
	return i
}

// parse parses the head at the start of b in one pass, line by line. Running
// out of bytes anywhere is ErrIncomplete; everything before that point has
// been validated.
func (r *Request) parse(b []byte) (int, error) {
	pos := skipEmptyLines(b)
	if pos == len(b)-1 && b[pos] == '\r' {
		return 0, ErrIncomplete // maybe another empty line
	}

	// Request line: method SP request-target SP HTTP-version CRLF.
	i := pos
	for i < len(b) && isToken[b[i]] {
		i++
	}
	if i == len(b) {
		return 0, ErrIncomplete
	}
	if i == pos || b[i] != ' ' {
		return 0, ErrMalformed
	}
	r.Method = b[pos:i]
	i++
	t := i
	i = scanTarget(b, i)
	if i == len(b) {
		return 0, ErrIncomplete
	}
	// A missing version (HTTP/0.9 style) is malformed; Node accepts it as 1.1.
	if i == t || b[i] != ' ' {
		return 0, ErrMalformed
	}
	r.Target = b[t:i]
	i++
	minor, err := parseVersion(b[i:])
	if err != nil {
		return 0, err
	}
	r.Minor = minor
	if err := r.splitTarget(); err != nil {
		return 0, err
	}
	pos = i + len("HTTP/1.1\r\n")

	var hostSeen, connClose, connKeepAlive, connUpgrade, upgradeWS bool
	var te teState
	for {
		if pos == len(b) {
			return 0, ErrIncomplete
		}
		if b[pos] == '\r' {
			if pos+1 == len(b) {
				return 0, ErrIncomplete
			}
			if b[pos+1] != '\n' {
				return 0, ErrMalformed
			}
			pos += 2
			break
		}
		// Name: a token right up to the colon. Whitespace before the colon
		// must be rejected (RFC 9112 5.1), as must obs-fold, a line starting
		// with SP or HTAB (RFC 9112 5.2 allows rejecting it; Node does).
		i = pos
		for i < len(b) && isToken[b[i]] {
			i++
		}
		if i == len(b) {
			return 0, ErrIncomplete
		}
		if i == pos || b[i] != ':' {
			return 0, ErrMalformed
		}
		name := b[pos:i]
		i++
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		v := i
		i = scanValue(b, i)
		switch {
		case i == len(b):
			return 0, ErrIncomplete
		case b[i] != '\r':
			return 0, ErrMalformed
		case i+1 == len(b):
			return 0, ErrIncomplete
		case b[i+1] != '\n':
			return 0, ErrMalformed
		}
		pos = i + 2
		value := trimRightOWS(b[v:i])
		k := len(r.Headers)
		if k == MaxHeaders {
			return 0, ErrTooManyHeaders
		}
		r.hdr[k] = Header{Name: name, Value: value}
		r.Headers = r.hdr[:k+1]

		// The few headers that decide framing and connection handling.
		switch len(name) {
		case 4:
			if equalFoldLower(name, "host") {
				if hostSeen {
					return 0, ErrMissingHost
				}
				hostSeen = true
				r.Host = value
			}
		case 6:
			if equalFoldLower(name, "expect") && equalFoldLower(value, "100-continue") {
				r.ExpectContinue = r.Minor == 1 // RFC 9110 10.1.1: ignore in HTTP/1.0
			}
		case 7:
			if equalFoldLower(name, "upgrade") && HasToken(value, "websocket") {
				upgradeWS = true
			}
		case 10:
			if equalFoldLower(name, "connection") {
				for t, rest := nextToken(value); t != nil; t, rest = nextToken(rest) {
					switch {
					case equalFoldLower(t, "close"):
						connClose = true
					case equalFoldLower(t, "keep-alive"):
						connKeepAlive = true
					case equalFoldLower(t, "upgrade"):
						connUpgrade = true
					}
				}
			}
		case 14:
			if equalFoldLower(name, "content-length") {
				if r.ContentLength >= 0 {
					return 0, ErrDuplicateContentLength
				}
				n, ok := parseContentLength(value)
				if !ok {
					return 0, ErrBadContentLength
				}
				r.ContentLength = n
			}
		case 17:
			if equalFoldLower(name, "transfer-encoding") {
				if err := te.add(value); err != nil {
					return 0, err
				}
			}
		}
	}
	if te.seen {
		// Smuggling first: whatever else is wrong, two framings is the
		// finding worth reporting.
		if r.ContentLength >= 0 {
			return 0, ErrLengthConflict
		}
		if r.Minor == 0 || !te.chunked {
			return 0, ErrBadTransferEncoding
		}
		if te.other {
			return 0, ErrUnsupportedTransferCoding
		}
		r.Chunked = true
	}
	if !hostSeen && r.Minor == 1 {
		return 0, ErrMissingHost
	}
	r.KeepAlive = !connClose && (r.Minor == 1 || connKeepAlive)
	// RFC 9110 7.8: a server must ignore Upgrade in an HTTP/1.0 request.
	r.Upgrade = r.Minor == 1 && connUpgrade && upgradeWS
	return pos, nil
}

// teState accumulates the codings of every Transfer-Encoding line of a head,
// in order, as one list (RFC 9110 5.3).
type teState struct {
	seen    bool // a Transfer-Encoding line was present
	chunked bool // the last coding so far is chunked
	other   bool // a coding other than chunked came before it
}

// add appends the codings of one Transfer-Encoding value. Nothing, not even an
// empty element, may follow chunked: llhttp refuses "chunked," and a second
// Transfer-Encoding line after chunked, and RFC 9112 6.1 forbids chunked twice.
// Empty elements before it are skipped as RFC 9110 5.6.1 asks (llhttp agrees),
// but a value with no coding at all is refused (Node ignores an empty one).
func (te *teState) add(v []byte) error {
	te.seen = true
	if te.chunked {
		return ErrBadTransferEncoding
	}
	found := false
	for len(v) > 0 {
		elem, comma := v, false
		if i := bytes.IndexByte(v, ','); i >= 0 {
			elem, v, comma = v[:i], v[i+1:], true
		} else {
			v = v[len(v):]
		}
		elem = trimOWS(elem)
		if len(elem) == 0 {
			continue
		}
		for _, c := range elem {
			if !isToken[c] {
				return ErrBadTransferEncoding // parameters (";q=1") included: no coding we accept has any
			}
		}
		found = true
		if equalFoldLower(elem, "chunked") {
			if comma {
				return ErrBadTransferEncoding
			}
			te.chunked = true
		} else {
			te.other = true
		}
	}
	if !found {
		return ErrBadTransferEncoding
	}
	return nil
}

// parseVersion parses "HTTP/1.x\r\n" at the start of v, which may be cut short.
func parseVersion(v []byte) (minor int, err error) {
	const pattern = "HTTP/1.1\r\n" // bytes 5 and 7 are any digit
	for j := 0; j < len(v) && j < len(pattern); j++ {
		c := v[j]
		switch j {
		case 5, 7:
			if !isDigit(c) {
				return 0, ErrMalformed
			}
			if j == 5 && c != '1' || j == 7 && c > '1' {
				return 0, ErrUnsupportedVersion
			}
		default:
			if c != pattern[j] {
				return 0, ErrMalformed
			}
		}
	}
	if len(v) < len(pattern) {
		return 0, ErrIncomplete
	}
	return int(v[7] - '0'), nil
}

// splitTarget sets Path and RawQuery from Target. Accepted forms (RFC 9112 3.2):
// origin-form "/p?q", asterisk-form "*", absolute-form "scheme://authority/p?q"
// and, for CONNECT only, authority-form "host:port".
func (r *Request) splitTarget() error {
	t := r.Target
	switch {
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		r.Path = t
		return nil
	case string(r.Method) == "CONNECT":
		r.Path = t[:0]
		return nil
	default:
		// absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
		i := 0
		for i < len(t) && (isAlpha(t[i]) || i > 0 && (isDigit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.')) {
			i++
		}
		if i == 0 || len(t)-i < 3 || string(t[i:i+3]) != "://" {
			return ErrMalformed
		}
		i += 3
		for i < len(t) && t[i] != '/' && t[i] != '?' && t[i] != '#' {
			i++
		}
		t = t[i:]
	}
	// url.parse (used by engine.io) ends the query at '#'.
	end := len(t)
	if h := bytes.IndexByte(t, '#'); h >= 0 {
		end = h
	}
	if q := bytes.IndexByte(t[:end], '?'); q >= 0 {
		r.Path = t[:q]
		r.RawQuery = t[q+1 : end]
	} else {
		r.Path = t[:end]
		r.RawQuery = t[end:end]
	}
	return nil
}

// parseContentLength parses 1*DIGIT; more than 18 digits is refused so the
// value fits int64 without overflow checks.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	return trimRightOWS(v)
}

func trimRightOWS(v []byte) []byte {
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// Byte classes. isToken: tchar (RFC 9110 5.6.2). isValue: field-vchar, SP and
// HTAB, obs-text allowed (RFC 9110 5.5); CR, LF, NUL and other controls are not.
// isTarget: visible ASCII; Node rejects bytes >= 0x80 in the target with 400.
var isToken, isValue, isTarget [256]bool

// lower maps ASCII letters to lower case and every other byte to itself.
var lower [256]byte

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		lower[c] = b
		if 'A' <= b && b <= 'Z' {
			lower[c] = b + 'a' - 'A'
		}
		isToken[c] = isDigit(b) || isAlpha(b) && b < 0x80 || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), b) >= 0
		isValue[c] = b == '\t' || b >= ' ' && b != 0x7f
		isTarget[c] = b > ' ' && b < 0x7f
	}
}

// equalFoldLower reports whether b equals s ignoring ASCII case; s must be lower case.
func equalFoldLower(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower[b[i]] != s[i] {
			return false
		}
	}
	return true
}
