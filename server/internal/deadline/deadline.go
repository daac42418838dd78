// Package deadline runs per-session deadlines (heartbeats, upgrade and close timeouts)
// without a timer or a goroutine per session.
//
// A Wheel is a few shards, each an indexed min-heap of *Timer guarded by a mutex and driven by
// one time.Timer armed at the earliest deadline. A coarse hashed wheel with 100 ms slots would be
// cheaper still, but Engine.IO clients (and the public protocol suite, with pingInterval 300 ms
// and pingTimeout 200 ms) observe heartbeat timing to the millisecond, so deadlines here are exact.
//
// Lock order: a caller may hold its own lock (a session's) while calling Schedule or Stop;
// Fire is called with no Wheel lock held, so it may take the owner's lock.
package deadline

import (
	"sync"
	"sync/atomic"
	"time"
)

// Firer is what a Timer calls when it expires.
type Firer interface {
	// Fire runs on the shard's goroutine, never on an event loop. It must not block for long:
	// other deadlines of the shard wait behind it.
	Fire(now time.Time)
}

// Timer is one deadline slot, embedded by its owner (16 bytes plus the Firer). The zero value
// is unscheduled. A Timer belongs to one Wheel for its whole life.
type Timer struct {
	when  int64 // unix nanoseconds
	index int32 // position in the shard heap; -1 when not scheduled
	shard int32
	owner Firer
}

// Init binds t to its owner. Call once, before the first Schedule.
func (t *Timer) Init(owner Firer) { t.owner = owner; t.index = -1; t.shard = -1 }

// Wheel holds the shards. Safe for concurrent use.
type Wheel struct {
	shards []*shard
	next   atomic.Uint32
	stop   chan struct{}
	wg     sync.WaitGroup
	round  atomic.Pointer[func()]
}

// OnRound sets f to run after each round of Fire calls, on the shard's goroutine, so owners
// can batch what their Fire calls queued (one task per event loop for a round of pings).
func (w *Wheel) OnRound(f func()) { w.round.Store(&f) }

type shard struct {
	mu    sync.Mutex
	heap  []*Timer
	armed int64 // deadline the time.Timer is armed for; 0 when idle
	timer *time.Timer
	kick  chan struct{}
}

// New starts a Wheel with n shards, each with one goroutine (n goroutines in all, not one per session).
func New(n int) *Wheel {
	if n < 1 {
		n = 1
	}
	w := &Wheel{stop: make(chan struct{})}
	for i := 0; i < n; i++ {
		s := &shard{kick: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
		s.timer.Stop()
		w.shards = append(w.shards, s)
		w.wg.Add(1)
		go w.run(s)
	}
	return w
}

// Close stops the shard goroutines; pending deadlines never fire.
func (w *Wheel) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

// Schedule sets t to fire at when, replacing any earlier schedule. Safe for concurrent use.
func (w *Wheel) Schedule(t *Timer, when time.Time) {
	if t.shard < 0 {
		t.shard = int32(w.next.Add(1) % uint32(len(w.shards)))
	}
	s := w.shards[t.shard]
	ns := when.UnixNano()
	s.mu.Lock()
	t.when = ns
	if t.index >= 0 {
		s.fix(int(t.index))
	} else {
		s.push(t)
	}
	kick := s.heap[0] == t && (s.armed == 0 || ns < s.armed)
	s.mu.Unlock()
	if kick {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Stop unschedules t. It reports whether t was scheduled. Safe for concurrent use.
func (w *Wheel) Stop(t *Timer) bool {
	if t.shard < 0 {
		return false
	}
	s := w.shards[t.shard]
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.index < 0 {
		return false
	}
	s.remove(int(t.index))
	return true
}

// When returns when t is scheduled to fire, in unix nanoseconds, or 0 when it is not
// scheduled. Safe for concurrent use.
func (w *Wheel) When(t *Timer) int64 {
	if t.shard < 0 {
		return 0
	}
	s := w.shards[t.shard]
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.index < 0 {
		return 0
	}
	return t.when
}

// Len returns the number of scheduled timers (for metrics and tests).
func (w *Wheel) Len() int {
	n := 0
	for _, s := range w.shards {
		s.mu.Lock()
		n += len(s.heap)
		s.mu.Unlock()
	}
	return n
}

func (w *Wheel) run(s *shard) {
	defer w.wg.Done()
	var due []*Timer
	for {
		select {
		case <-w.stop:
			s.timer.Stop()
			return
		case <-s.kick:
		case <-s.timer.C:
		}
		now := time.Now()
		nowNs := now.UnixNano()
		s.mu.Lock()
		due = due[:0]
		for len(s.heap) > 0 && s.heap[0].when <= nowNs {
			t := s.heap[0]
			s.remove(0)
			due = append(due, t)
		}
		if len(s.heap) > 0 {
			s.armed = s.heap[0].when
			s.timer.Reset(time.Duration(s.armed - nowNs))
		} else {
			s.armed = 0
		}
		s.mu.Unlock()
		for i, t := range due {
			t.owner.Fire(now)
			due[i] = nil
		}
		if f := w.round.Load(); f != nil && len(due) > 0 {
			(*f)()
		}
	}
}

// The heap is a plain binary min-heap on when, with each Timer knowing its index so that
// Schedule and Stop are O(log n) without a search.

func (s *shard) push(t *Timer) {
	t.index = int32(len(s.heap))
	s.heap = append(s.heap, t)
	s.up(len(s.heap) - 1)
}

func (s *shard) remove(i int) {
	n := len(s.heap) - 1
	t := s.heap[i]
	if i != n {
		s.swap(i, n)
	}
	s.heap[n] = nil
	s.heap = s.heap[:n]
	if i != n {
		s.fix(i)
	}
	t.index = -1
	if n == 0 && cap(s.heap) > 1024 {
		s.heap = nil // give a burst's memory back once idle
	}
}

func (s *shard) fix(i int) {
	if !s.down(i) {
		s.up(i)
	}
}

func (s *shard) swap(i, j int) {
	h := s.heap
	h[i], h[j] = h[j], h[i]
	h[i].index = int32(i)
	h[j].index = int32(j)
}

func (s *shard) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if s.heap[i].when <= s.heap[j].when {
			break
		}
		s.swap(i, j)
		j = i
	}
}

func (s *shard) down(i0 int) bool {
	i, n := i0, len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && s.heap[r].when < s.heap[l].when {
			j = r
		}
		if s.heap[j].when >= s.heap[i].when {
			break
		}
		s.swap(i, j)
		i = j
	}
	return i > i0
}
