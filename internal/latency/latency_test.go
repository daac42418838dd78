package latency

import (
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/allocs"
)

// An observation falls in the first bucket whose bound it does not pass (a bound is
// inclusive), past the last one in the overflow bucket; the sum is exact.
func TestBuckets(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{0, Bounds[0], Bounds[0] + 1, time.Second, Bounds[len(Bounds)-1] + 1, time.Hour} {
		h.Observe(d)
	}
	s := h.Snapshot()
	want := map[int]uint64{0: 2, 1: 1, len(Bounds): 2} // len(Bounds): the overflow bucket
	want[indexOf(time.Second)] = 1
	for i, n := range s.Counts {
		if n != want[i] {
			t.Errorf("bucket %d: %d, want %d (%v)", i, n, want[i], s.Counts)
		}
	}
	sum := Bounds[0] + Bounds[0] + 1 + time.Second + Bounds[len(Bounds)-1] + 1 + time.Hour
	if s.Count() != 6 || s.Sum != sum {
		t.Fatalf("count %d sum %v, want 6 %v", s.Count(), s.Sum, sum)
	}
}

func indexOf(bound time.Duration) int {
	for i, b := range Bounds {
		if b == bound {
			return i
		}
	}
	return -1
}

// Observe is on per-ack and per-request paths: it must not allocate.
func TestObserveDoesNotAllocate(t *testing.T) {
	var h Histogram
	allocs.MustNotAllocate(t, func() { h.Observe(3 * time.Millisecond) })
}
