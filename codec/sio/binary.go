package sio

import (
	"encoding/base64"
	"math"
	"strconv"
)

// AppendPlaceholder appends the placeholder for attachment num, {"_placeholder":true,"num":N},
// with the key order socket.io-parser writes. It does not allocate when dst has room.
func AppendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// Placeholder reports whether the JSON value v (whitespace around it allowed) is an attachment
// placeholder, and which attachment it names. See CheckPlaceholders for what counts as one.
// It does not allocate.
func Placeholder(v []byte) (num int, ok bool) {
	v = trimWS(v)
	if len(v) == 0 || v[0] != '{' {
		return 0, false
	}
	kind, num, end := classify(v, 0)
	if kind != isPlaceholder || end != len(v) {
		return 0, false
	}
	return num, true
}

type objKind uint8

const (
	notPlaceholder objKind = iota
	isPlaceholder
	badPlaceholder
)

// classify looks at the object starting at b[i] == '{' and reports whether it is a placeholder:
// an object whose only members are "_placeholder" and "num" (in either order, as often as
// JSON.parse would allow, last one winning). With "_placeholder" true, "num" must be a
// non-negative integer written in plain digits, or the object is a bad placeholder. end is the
// index past the object for isPlaceholder and badPlaceholder.
//
// classify gives up (notPlaceholder) at the first other key and never descends into a nested
// value, so walking a payload costs linear time however deep it nests. The price: an object with
// extra members, which socket.io-parser would still take as a placeholder, is plain data here.
// No client writes one.
func classify(b []byte, i int) (kind objKind, num, end int) {
	i = skipWS(b, i+1)
	phTrue, sawNum, numOK := false, false, false
	for {
		if i >= len(b) || b[i] != '"' {
			return notPlaceholder, 0, 0
		}
		kend, ok := scanString(b, i)
		if !ok {
			return notPlaceholder, 0, 0
		}
		key := b[i:kend]
		isPH := strEqual(key, "_placeholder")
		if !isPH && !strEqual(key, "num") {
			return notPlaceholder, 0, 0
		}
		i = skipWS(b, kend)
		if i >= len(b) || b[i] != ':' {
			return notPlaceholder, 0, 0
		}
		i = skipWS(b, i+1)
		if i >= len(b) || b[i] == '{' || b[i] == '[' {
			return notPlaceholder, 0, 0
		}
		vend, ok := scanValue(b, i, 1)
		if !ok {
			return notPlaceholder, 0, 0
		}
		if isPH {
			phTrue = string(b[i:vend]) == "true"
		} else {
			sawNum = true
			num, numOK = parseIndex(b[i:vend])
		}
		i = skipWS(b, vend)
		if i >= len(b) {
			return notPlaceholder, 0, 0
		}
		if b[i] == '}' {
			i++
			break
		}
		if b[i] != ',' {
			return notPlaceholder, 0, 0
		}
		i = skipWS(b, i+1)
	}
	switch {
	case !phTrue:
		return notPlaceholder, 0, 0
	case !sawNum || !numOK:
		return badPlaceholder, 0, i
	}
	return isPlaceholder, num, i
}

// parseIndex parses a non-negative integer in plain digits, saturating at math.MaxInt (out of
// range either way).
func parseIndex(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		if n > (math.MaxInt-9)/10 {
			n = math.MaxInt
			continue
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// CheckPlaceholders checks the placeholders in the JSON data of a binary packet against its
// attachment count: every placeholder must name an attachment in [0, attachments). It returns
// ErrBadPlaceholder otherwise (socket.io-parser's "illegal attachments"), and ErrInvalidJSON when
// data is not valid JSON. It does not allocate.
//
// A placeholder is an object with exactly the members "_placeholder": true and "num": N, in
// either order. Like socket.io-parser, CheckPlaceholders does not require each attachment to be
// named exactly once: a placeholder may repeat, and an attachment may go unused. Unlike it, an
// object with further members is plain data even when "_placeholder" is true (Node would take it
// as a placeholder, or fail on its "num"): recognising those would cost a scan of every object's
// members, quadratic on deep nesting. No client writes such objects.
func CheckPlaceholders(data []byte, attachments int) error {
	if !Valid(data) {
		return ErrInvalidJSON
	}
	_, err := resolve(nil, data, nil, attachments, check, 0)
	return err
}

// AppendResolved appends a copy of the JSON data to dst in which every placeholder N is replaced
// by atts[N] as a JSON string of standard, padded base64: the form in which encoding/json
// decodes a []byte, so a binary event unmarshals into structs with []byte fields. Everything else
// is copied as written. It returns ErrBadPlaceholder for a placeholder naming no attachment or a
// malformed one, ErrInvalidJSON for invalid data; dst is then returned unchanged.
// It does not allocate when dst has room.
func AppendResolved(dst, data []byte, atts [][]byte) ([]byte, error) {
	if !Valid(data) {
		return dst, ErrInvalidJSON
	}
	return resolve(dst, data, atts, len(atts), toBase64, 0)
}

// AppendRenumbered appends a copy of the JSON data, whose placeholders name attachments in
// [0, attachments), to dst with offset (not negative) added to every placeholder's number: data with its
// attachments, appended after offset others, keeps naming the right ones. Everything else is
// copied as written. Errors are those of AppendResolved; dst is then returned unchanged. It does
// not allocate when dst has room (a renumbered placeholder may be a few bytes longer).
func AppendRenumbered(dst, data []byte, attachments, offset int) ([]byte, error) {
	if !Valid(data) {
		return dst, ErrInvalidJSON
	}
	return resolve(dst, data, nil, attachments, renumber, offset)
}

// resolveMode is what resolve does with the placeholders it finds.
type resolveMode uint8

const (
	check    resolveMode = iota // check them, write nothing
	toBase64                    // write each as its attachment in base64
	renumber                    // write each with its number raised by the offset
)

// resolve walks the objects of data, which must be valid JSON, checking placeholders against n
// and, unless mode is check, appending data to dst with placeholders replaced as mode says.
func resolve(dst, data []byte, atts [][]byte, n int, mode resolveMode, offset int) ([]byte, error) {
	orig := len(dst)
	copied := 0 // data[:copied] is in dst already
	for i := 0; i < len(data); {
		switch data[i] {
		case '"':
			i, _ = scanString(data, i) // valid, checked above
			continue
		case '{':
			kind, num, end := classify(data, i)
			switch kind {
			case badPlaceholder:
				return dst[:orig], ErrBadPlaceholder
			case isPlaceholder:
				if num >= n {
					return dst[:orig], ErrBadPlaceholder
				}
				if mode != check {
					dst = append(dst, data[copied:i]...)
					if mode == toBase64 {
						dst = append(dst, '"')
						dst = base64.StdEncoding.AppendEncode(dst, atts[num])
						dst = append(dst, '"')
					} else {
						dst = AppendPlaceholder(dst, num+offset)
					}
				}
				i, copied = end, end
				continue
			}
		}
		i++
	}
	if mode != check {
		dst = append(dst, data[copied:]...)
	}
	return dst, nil
}
