package tier

// bucket is a token bucket: it refills at rate tokens per second up to burst, and an event
// takes one token. Times are unix nanoseconds. Not safe for concurrent use: a socket's
// buckets are used under its state's lock.
type bucket struct {
	tokens float64
	last   int64
}

// take reports whether an event at now may pass, and takes its token if so.
func (b *bucket) take(now int64, rate float64, burst int) bool {
	cap := float64(burst)
	if cap < 1 {
		cap = 1
	}
	if b.last == 0 {
		b.tokens = cap
	} else if now > b.last {
		b.tokens += float64(now-b.last) * rate / 1e9
		if b.tokens > cap {
			b.tokens = cap
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
