package main

import (
	"math"
	"testing"
)

func TestHistBucketsAreMonotonicAndTight(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 63, 64, 65, 100, 127, 128, 1000, 12345, 1 << 20, 1<<40 - 1} {
		i := histIndex(v)
		if i < prev {
			t.Fatalf("histIndex(%d) = %d < %d", v, i, prev)
		}
		prev = i
		if got := histValue(i); math.Abs(got-float64(v)) > 0.032*float64(v)+0.5 {
			t.Errorf("histValue(histIndex(%d)) = %v, more than 3.2%% off", v, got)
		}
	}
	if histIndex(-5) != 0 || histIndex(1<<50) != histBuckets-1 {
		t.Error("out-of-range values must land in the end buckets")
	}
}

func TestMergedQuantiles(t *testing.T) {
	var a, b histogram
	for v := int64(1); v <= 1000; v++ { // 1..1000 µs, split over two workers
		if v%2 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
	}
	var m mergedHist
	m.add(a.sparse())
	m.add(b.sparse())
	if m.total != 1000 {
		t.Fatalf("total %d, want 1000", m.total)
	}
	for _, tc := range []struct{ q, wantMs float64 }{{0.5, 0.5}, {0.99, 0.99}} {
		if got := m.quantile(tc.q); math.Abs(got-tc.wantMs) > 0.03*tc.wantMs {
			t.Errorf("quantile(%v) = %v ms, want about %v", tc.q, got, tc.wantMs)
		}
	}
	if got := m.maxValue(); math.Abs(got-1.0) > 0.03 {
		t.Errorf("max = %v ms, want about 1", got)
	}
	var empty mergedHist
	if empty.quantile(0.5) != 0 || empty.maxValue() != 0 {
		t.Error("an empty histogram must read 0")
	}
}
