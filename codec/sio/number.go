package sio

import (
	"math"
	"strconv"
)

// AppendNumber appends f as JSON.stringify writes a JavaScript number (ECMA-262
// Number::toString): the shortest digits that read back as f, in exponent form below 1e-6
// and from 1e21 on ("1e+21", "1.5e-7"), plain decimal otherwise ("100000000000000000000",
// "0.000001"). NaN and the infinities become null, and -0 becomes 0, as in JSON.stringify.
// It is the one JavaScript number formatter of the module; it does not allocate when dst has
// room (24 bytes suffice).
func AppendNumber(dst []byte, f float64) []byte {
	return appendFloat(dst, f, 64)
}

// appendFloat is AppendNumber for float64 (bits 64) and float32 (bits 32). A float32 is
// written with the shortest digits that read back as the same float32 (0.1, not
// 0.10000000149011612), as encoding/json writes it; JavaScript has no float32, and the value
// the caller meant is the short one.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0') // -0 too: (-0).toString() is "0"
	}
	format := byte('f')
	abs := math.Abs(f)
	if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
		bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) { // float32(1e-6) < 1e-6
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// strconv pads the exponent to two digits (1e-07); JavaScript does not (1e-7). Exponents
		// from 1e21 up have two digits or more already.
		n := len(dst)
		if dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
