// Package allocs asserts that hot paths do not allocate.
//
// Zero allocations per packet is a design rule of riptide (see ../../docs/architecture.md);
// tests state it with MustNotAllocate instead of hoping for it, as rueidis does.
package allocs

import "testing"

// MustNotAllocate fails t when f allocates on average across runs.
// f runs once before measuring so pools and lazily grown buffers are warm.
func MustNotAllocate(t testing.TB, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Fatalf("allocations per run = %v, want 0", n)
	}
}
