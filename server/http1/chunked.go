package http1

import (
	"bytes"
	"errors"
	"math"
)

// Chunked body errors. Scan returns them; StatusFor maps ErrBodyTooLarge to
// 413 and the others to 400. Each is final: answer and close the connection,
// since the framing of whatever follows is unknown.
var (
	// ErrBodyTooLarge means the chunk sizes announced so far add up to more
	// than the max given to Scan. It is reported as soon as a chunk-size line
	// announces it, before the data arrives (413, as Engine.IO answers a
	// polling body over maxHttpBufferSize).
	ErrBodyTooLarge = errors.New("http1: request body too large")
	// ErrBadChunkSize means a chunk-size that is not 1*HEXDIG directly
	// followed by ";" or CR: no digits, "0x", a sign, or whitespace (llhttp
	// refuses "5 \r\n" too).
	ErrBadChunkSize = errors.New("http1: bad chunk size")
	// ErrChunkSizeOverflow means a chunk-size of 2^63 or more.
	ErrChunkSizeOverflow = errors.New("http1: chunk size overflow")
	// ErrBadChunkExtension means a chunk extension that is not
	// ";" token [ "=" ( token / quoted-string ) ] with no whitespace: llhttp
	// refuses whitespace, RFC 9112 7.1.1 empty names and values.
	ErrBadChunkExtension = errors.New("http1: bad chunk extension")
	// ErrChunkLineTooLong means a chunk-size line, extensions included, longer
	// than MaxChunkLine bytes.
	ErrChunkLineTooLong = errors.New("http1: chunk-size line too long")
	// ErrChunkCRLF means a missing CRLF where one is required: a bare LF or
	// bare CR after a chunk-size line, chunk data or a trailer line, or chunk
	// data longer than its size.
	ErrChunkCRLF = errors.New("http1: chunked body: CRLF expected")
	// ErrBadTrailer means a malformed trailer line (the head's rules: a token
	// name right up to the colon, no control bytes in the value, no obs-fold),
	// or a Content-Length or Transfer-Encoding trailer, which llhttp refuses.
	ErrBadTrailer = errors.New("http1: bad trailer field")
	// ErrChunkFraming means more than MaxChunkFraming bytes of framing (size
	// lines, extensions, CRLFs, trailers) beyond one byte per byte of data.
	ErrChunkFraming = errors.New("http1: too much chunked framing")
)

const (
	// MaxChunkLine is the longest chunk-size line Scan accepts, extensions
	// included and CRLF excluded: the limit of Go's net/http (4 KiB). No
	// client sends extensions; Node only caps them at 16 KiB per request.
	MaxChunkLine = 4 << 10
	// MaxChunkFraming bounds what the connection must buffer for a body: the
	// bytes that are not chunk data may exceed the data announced so far by
	// at most this much, so a body Scan has not refused is never longer than
	// 2*max+MaxChunkFraming (Node caps chunk extensions at 16 KiB for
	// CVE-2024-22019; Go's net/http has a similar allowance for
	// CVE-2023-39326). Chunks of 5 bytes or more never reach it (a chunk
	// costs 5 bytes of framing plus its size digits); 1-byte chunks do after
	// about 4,000 of them.
	MaxChunkFraming = 16 << 10
)

// Scan phases: where the next byte goes.
const (
	csSize         uint8 = iota // chunk-size digits
	csExtName                   // after ";": the first byte of an extension name
	csExtNameMore               // inside an extension name
	csExtValue                  // after "=": the first byte of a token or quoted-string
	csExtToken                  // inside a token value
	csExtQuoted                 // inside a quoted-string
	csExtEscape                 // after a backslash in a quoted-string
	csExtEnd                    // after the closing quote: ";" or CR
	csSizeLF                    // after the CR of a chunk-size line
	csData                      // chunk data, size bytes to go
	csDataCR                    // the CR after chunk data
	csDataLF                    // the LF after chunk data
	csTrailer                   // start of a trailer line, or the final CRLF
	csTrailerName               // inside a trailer field name
	csTrailerValue              // after the colon of a trailer line
	csTrailerLF                 // the LF of a trailer line
	csFinalLF                   // the LF of the final CRLF
	csDone                      // the body is complete
)

// Trailer names tracked while they are read, to refuse framing fields.
const (
	trailerCL uint8 = 1 << iota // a prefix of "content-length" so far
	trailerTE                   // a prefix of "transfer-encoding" so far
)

// ChunkedState is Scan's progress through one chunked request body (RFC 9112
// 7.1). The zero value is ready; set it back to ChunkedState{} before the next
// body. It holds no reference into the buffer, so a connection waiting for
// the rest of a body keeps only these few words. Event loop only.
type ChunkedState struct {
	off      int   // bytes of the body scanned so far; the body's length once done
	declared int64 // sum of the sizes of the chunks whose size line is complete (at most max)
	size     int64 // csSize: the value of the digits so far; csExt* and csSizeLF: the chunk size; csData: data bytes left
	line     int   // bytes of the chunk-size line, or of the trailer name, so far
	phase    uint8
	match    uint8 // trailerCL | trailerTE while reading a trailer name
}

// Scan checks the chunked body at the start of buf, the bytes after the
// request head, and reports done once its last chunk, trailers and final CRLF
// are all there; consumed is then the body's length in buf (the next pipelined
// request starts at buf[consumed:]) and DecodeChunkedInPlace(buf[:consumed])
// yields the content. While the body is incomplete Scan returns false, 0, nil:
// wait for more bytes and call it again with the same state and the longer
// buffer. buf must start with the same bytes on every call; Scan resumes where
// it stopped, so a body arriving a byte at a time costs linear time in all.
// After done, further calls report done and the same consumed.
//
// max is the largest decoded body accepted; ErrBodyTooLarge is returned as
// soon as a chunk-size line takes the sizes announced past it, before that
// chunk's data arrives. Any error is final (the state is then unusable; the
// connection must be closed) and does not depend on how the bytes were split
// across calls. Trailer fields are checked and dropped. Scan only reads buf
// and keeps no reference to it. It does not allocate.
func (st *ChunkedState) Scan(buf []byte, max int64) (done bool, consumed int, err error) {
	i := st.off
	for st.phase != csDone && i < len(buf) {
		if st.phase == csData {
			// The bulk of the body: skip it without looking.
			n := int(min(st.size, int64(len(buf)-i)))
			i += n
			if st.size -= int64(n); st.size == 0 {
				st.phase = csDataCR
			}
			continue
		}
		// Every other byte is framing. Outside csData all declared data has
		// been passed, so framing so far is i+1-declared.
		if int64(i+1)-st.declared > MaxChunkFraming+st.declared {
			err = ErrChunkFraming
		} else {
			err = st.step(buf[i], max)
		}
		if err != nil {
			st.off = i
			return false, 0, err
		}
		i++
	}
	st.off = i
	if st.phase != csDone {
		return false, 0, nil
	}
	return true, i, nil
}

// step moves the scan over one framing byte c.
func (st *ChunkedState) step(c byte, max int64) error {
	switch st.phase {
	case csSize, csExtName, csExtNameMore, csExtValue, csExtToken, csExtQuoted, csExtEscape, csExtEnd:
		if err := st.sizeLine(c, max); err != nil {
			return err
		}
		if st.phase != csSizeLF {
			if st.line++; st.line > MaxChunkLine {
				return ErrChunkLineTooLong
			}
		}
	case csSizeLF:
		if c != '\n' {
			return ErrChunkCRLF
		}
		st.line = 0
		st.declared += st.size
		if st.size == 0 {
			st.phase = csTrailer // the last chunk
		} else {
			st.phase = csData
		}
	case csDataCR:
		if c != '\r' {
			return ErrChunkCRLF
		}
		st.phase = csDataLF
	case csDataLF:
		if c != '\n' {
			return ErrChunkCRLF
		}
		st.phase = csSize
	default:
		return st.trailer(c)
	}
	return nil
}

// sizeLine moves the scan over one byte of a chunk-size line (RFC 9112 7.1.1,
// without the whitespace llhttp refuses):
//
//	1*HEXDIG *( ";" token [ "=" ( token / quoted-string ) ] ) CRLF
func (st *ChunkedState) sizeLine(c byte, max int64) error {
	switch {
	case c == '\n':
		if st.phase == csSize && st.line == 0 {
			return ErrBadChunkSize
		}
		if st.phase == csExtQuoted || st.phase == csExtEscape {
			return ErrBadChunkExtension
		}
		return ErrChunkCRLF // llhttp: HPE_CR_EXPECTED
	case st.phase == csSize:
		if d := unhex(c); d < 16 {
			if st.size > (math.MaxInt64-15)/16 {
				return ErrChunkSizeOverflow
			}
			st.size = st.size*16 + int64(d)
			return nil
		}
		if st.line == 0 || c != '\r' && c != ';' {
			return ErrBadChunkSize
		}
		// The size is known: refuse it now rather than buffer its data.
		if st.size > max-st.declared {
			return ErrBodyTooLarge
		}
		return st.extDelim(c)
	case st.phase == csExtName:
		if !isToken[c] {
			return ErrBadChunkExtension
		}
		st.phase = csExtNameMore
	case st.phase == csExtNameMore:
		switch {
		case isToken[c]:
		case c == '=':
			st.phase = csExtValue
		default:
			return st.extDelim(c)
		}
	case st.phase == csExtValue:
		switch {
		case c == '"':
			st.phase = csExtQuoted
		case isToken[c]:
			st.phase = csExtToken
		default:
			return ErrBadChunkExtension
		}
	case st.phase == csExtToken:
		if !isToken[c] {
			return st.extDelim(c)
		}
	case st.phase == csExtQuoted:
		switch {
		case c == '"':
			st.phase = csExtEnd
		case c == '\\':
			st.phase = csExtEscape
		case !isQdtext(c):
			return ErrBadChunkExtension
		}
	case st.phase == csExtEscape:
		// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
		if c != '\t' && (c < ' ' || c == 0x7f) {
			return ErrBadChunkExtension
		}
		st.phase = csExtQuoted
	default: // csExtEnd
		return st.extDelim(c)
	}
	return nil
}

// extDelim handles the byte after a chunk size or a complete extension: ";"
// starts another extension, CR ends the line.
func (st *ChunkedState) extDelim(c byte) error {
	switch c {
	case ';':
		st.phase = csExtName
	case '\r':
		st.phase = csSizeLF
	default:
		return ErrBadChunkExtension
	}
	return nil
}

// isQdtext reports qdtext (RFC 9110 5.6.4): HTAB, SP and visible bytes but '"'
// and '\\', obs-text included.
func isQdtext(c byte) bool {
	return c == '\t' || c >= ' ' && c != '"' && c != '\\' && c != 0x7f
}

// trailer moves the scan over one byte of the trailer section, checked like
// header lines in Parse: field-name ":" OWS field-value CRLF, then CRLF.
func (st *ChunkedState) trailer(c byte) error {
	switch st.phase {
	case csTrailer:
		switch {
		case c == '\r':
			st.phase = csFinalLF
		case isToken[c]:
			st.phase, st.line, st.match = csTrailerName, 0, trailerCL|trailerTE
			st.trailerName(c)
		case c == '\n':
			return ErrChunkCRLF
		default:
			return ErrBadTrailer // obs-fold, empty name
		}
	case csTrailerName:
		switch {
		case isToken[c]:
			st.trailerName(c)
		case c == ':':
			// Framing fields in trailers would contradict the framing just
			// used; llhttp refuses both.
			if st.match&trailerCL != 0 && st.line == len("content-length") ||
				st.match&trailerTE != 0 && st.line == len("transfer-encoding") {
				return ErrBadTrailer
			}
			st.phase = csTrailerValue
		case c == '\n':
			return ErrChunkCRLF
		default:
			return ErrBadTrailer
		}
	case csTrailerValue:
		switch {
		case c == '\r':
			st.phase = csTrailerLF
		case c == '\n':
			return ErrChunkCRLF
		case !isValue[c]:
			return ErrBadTrailer
		}
	case csTrailerLF:
		if c != '\n' {
			return ErrChunkCRLF
		}
		st.phase = csTrailer
	case csFinalLF:
		if c != '\n' {
			return ErrChunkCRLF
		}
		st.phase = csDone
	}
	return nil
}

// trailerName records one more byte c of a trailer name.
func (st *ChunkedState) trailerName(c byte) {
	const cl, te = "content-length", "transfer-encoding"
	if st.match&trailerCL != 0 && (st.line >= len(cl) || lower[c] != cl[st.line]) {
		st.match &^= trailerCL
	}
	if st.match&trailerTE != 0 && (st.line >= len(te) || lower[c] != te[st.line]) {
		st.match &^= trailerTE
	}
	if st.match != 0 {
		st.line++ // only the length of a name that may still match matters
	}
}

// DecodeChunkedInPlace moves the chunk data of body, a complete chunked body
// as measured by a done Scan (buf[:consumed]), together at its start and
// returns it: the decoded content, which aliases body. The framing bytes are
// overwritten, so body is good for nothing else afterwards; the caller is
// about to discard it (the request head before it is untouched). On input
// Scan did not accept the result is unspecified, but it stays within body.
// It does not allocate.
func DecodeChunkedInPlace(body []byte) []byte {
	r, w := 0, 0
	for r < len(body) {
		size := 0
		for ; r < len(body) && unhex(body[r]) < 16; r++ {
			if size = size*16 + int(unhex(body[r])); size > len(body) {
				return body[:w]
			}
		}
		nl := bytes.IndexByte(body[r:], '\n') // past extensions and CRLF
		if nl < 0 {
			break
		}
		r += nl + 1
		if size == 0 || size > len(body)-r {
			break
		}
		w += copy(body[w:], body[r:r+size])
		r += size + len("\r\n")
	}
	return body[:w]
}
