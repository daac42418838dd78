package redis

import "unsafe"

// bytesToString views b as a string without copying; b must not change while the string is
// in use.
func bytesToString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// stringToBytes views s as bytes without copying (Redis hands messages over as strings); the
// bytes must never be written. The capacity is capped so that an append copies.
func stringToBytes(s string) []byte {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	return b[:len(s):len(s)]
}
