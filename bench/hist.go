package main

import (
	"math/bits"
	"sync/atomic"
)

// histogram counts latencies in microseconds in log-linear buckets: exact
// below 64 µs, then 32 buckets per power of two (at most 3% wide), up to
// 2^40 µs. Workers record into it with atomic adds from many goroutines and
// send it to the parent sparse; the parent merges and reads percentiles.
type histogram struct {
	counts [histBuckets]atomic.Int64
}

const (
	histSubBits = 5 // 32 sub-buckets per power of two
	histSub     = 1 << histSubBits
	histLinear  = 2 * histSub // values below this have a bucket each
	histMaxBits = 40
	histBuckets = histLinear + (histMaxBits-histSubBits)*histSub
)

// histIndex returns the bucket of v (µs); negatives count as 0 (the clocks
// of two processes on one machine agree, but a reading may still straddle
// a microsecond).
func histIndex(v int64) int {
	if v < histLinear {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1 // v>>shift is in [32, 64)
	i := shift*histSub + int(v>>shift)
	return min(i, histBuckets-1)
}

// histValue is the midpoint of bucket i, in µs.
func histValue(i int) float64 {
	if i < histLinear {
		return float64(i)
	}
	shift := i/histSub - 1
	lo := int64(i%histSub+histSub) << shift
	return float64(lo) + float64(int64(1)<<shift)/2
}

// record counts one latency. Safe for concurrent use.
func (h *histogram) record(us int64) {
	h.counts[histIndex(us)].Add(1)
}

func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
}

// sparse returns the non-empty buckets as [index, count] pairs.
func (h *histogram) sparse() [][2]int64 {
	var out [][2]int64
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			out = append(out, [2]int64{int64(i), c})
		}
	}
	return out
}

// mergedHist is the parent's sum of the workers' sparse histograms.
type mergedHist struct {
	counts [histBuckets]int64
	total  int64
}

func (m *mergedHist) add(sparse [][2]int64) {
	for _, p := range sparse {
		if p[0] >= 0 && p[0] < histBuckets && p[1] > 0 {
			m.counts[p[0]] += p[1]
			m.total += p[1]
		}
	}
}

// quantile returns the latency in milliseconds below which a fraction q of
// the samples fall (bucket midpoint), or 0 with no samples.
func (m *mergedHist) quantile(q float64) float64 {
	if m.total == 0 {
		return 0
	}
	rank := int64(q*float64(m.total) + 0.5)
	rank = min(max(rank, 1), m.total)
	var seen int64
	for i, c := range m.counts {
		seen += c
		if seen >= rank {
			return histValue(i) / 1000
		}
	}
	return histValue(histBuckets-1) / 1000
}

// maxValue returns the highest non-empty bucket's midpoint in milliseconds.
func (m *mergedHist) maxValue() float64 {
	for i := histBuckets - 1; i >= 0; i-- {
		if m.counts[i] != 0 {
			return histValue(i) / 1000
		}
	}
	return 0
}
