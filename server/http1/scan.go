package http1

import (
	"encoding/binary"
	"math/bits"
)

// Word-at-a-time scanning of the two long runs of a head, the request-target
// and header values (a User-Agent is over 100 bytes): eight bytes are checked
// with a few integer operations and the first stop byte is located from the
// mask, instead of a table lookup per byte (this took a Chrome polling GET from
// ~730 ns to ~300 ns).

const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// lessMask sets the top bit of the bytes of w below n (n <= 128), exactly for
// the lowest such byte; bytes above it may be false alarms (borrows), which is
// all a scan for the first stop byte needs ("Bit Twiddling Hacks", hasless).
func lessMask(w, n uint64) uint64 { return (w - lo*n) &^ w & hi }

// scanTarget returns the index of the first byte at or after i that is not
// visible ASCII (0x21-0x7E), or len(b).
func scanTarget(b []byte, i int) int {
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte >= 0x7F has its top bit set in w or in w+lo; a carry only
		// comes out of an 0xFF byte, itself flagged, so the lowest flag is exact.
		if m := lessMask(w, 0x21) | ((w+lo)|w)&hi; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && isTarget[b[i]] {
		i++
	}
	return i
}

// scanValue returns the index of the first byte at or after i that may not
// appear in a field value (a control byte other than HTAB, or DEL), or len(b).
func scanValue(b []byte, i int) int {
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		if m := lessMask(w, 0x20) | lessMask(w^(lo*0x7f), 1); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if b[i] != '\t' {
				return i
			}
			i++ // tabs are rare: restart after it
			continue
		}
		i += 8
	}
	for i < len(b) && isValue[b[i]] {
		i++
	}
	return i
}
