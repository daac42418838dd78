// Package latency is a fixed-bucket histogram of durations made of atomics: observing is a
// few atomic adds, no lock and no allocation, so it can sit on paths that run per ack or per
// cluster request. Readers take a Snapshot at scrape time. The server's ack round trips and
// the Redis adapter's cross-node requests both use it, so it lives here, once.
package latency

import (
	"sync/atomic"
	"time"
)

// Bounds are the buckets' upper bounds, from half a millisecond (an ack over loopback) to
// ten seconds (past the default 5 s request timeout of the Redis adapter). Observations over
// the last bound fall in the overflow bucket.
var Bounds = [...]time.Duration{
	500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
	5 * time.Second, 10 * time.Second,
}

// Histogram counts durations per bucket. The zero value is ready; safe for concurrent use.
type Histogram struct {
	counts [len(Bounds) + 1]atomic.Uint64 // the last one is the overflow bucket
	sum    atomic.Int64                   // nanoseconds
}

// Observe records d.
func (h *Histogram) Observe(d time.Duration) {
	i := 0
	for i < len(Bounds) && d > Bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Snapshot is a histogram's state at one moment: Counts[i] observations fell in bucket i
// (at most Bounds[i]; the last entry is over every bound), not cumulated.
type Snapshot struct {
	Counts [len(Bounds) + 1]uint64
	Sum    time.Duration
}

// Count is the number of observations.
func (s Snapshot) Count() uint64 {
	var n uint64
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Snapshot reads the counters. Observations that race with it may show in the counts and
// not yet in the sum, or the other way round; the next snapshot has them.
func (h *Histogram) Snapshot() Snapshot {
	var s Snapshot
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}
