package serial

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Every test here is driven by channels: a task blocks on a channel the test closes, and
// workers report parking and exiting through the pool's hook, so no assertion depends on
// how fast the machine is. wait bounds each step so a lost wakeup fails instead of hanging.
const wait = 10 * time.Second

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// hooked returns a pool whose idle timer is the returned expire channel and whose worker
// events go to the returned channel.
func hooked(max int) (*Pool, chan time.Time, chan hookEvent) {
	p := NewPool(max, time.Hour)
	p.expire = make(chan time.Time)
	events := make(chan hookEvent, 1024)
	p.hook = func(e hookEvent) { events <- e }
	return p, p.expire, events
}

// expect reads worker events until it has seen n of kind e (other kinds are skipped).
func expect(t *testing.T, events chan hookEvent, e hookEvent, n int) {
	t.Helper()
	for n > 0 {
		if recv(t, events, fmt.Sprintf("worker event %d", e)) == e {
			n--
		}
	}
}

// blocker pushes a task on q that reports it started and then waits for the returned release.
func blocker(p *Pool, q *Queue) (started chan struct{}, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	p.Push(q, func() { close(started); <-release })
	return
}

func TestOrderPerQueueAndNoStall(t *testing.T) {
	p, _, _ := hooked(8)
	var slow, fast Queue
	started, release := blocker(p, &slow)
	recv(t, started, "the blocking task")
	got := make(chan int, 100)
	for i := 0; i < 100; i++ {
		p.Push(&fast, func() { got <- i })
	}
	for i := 0; i < 100; i++ {
		if v := recv(t, got, "a task of a queue next to a blocked one"); v != i {
			t.Fatalf("task %d ran in place %d", v, i)
		}
	}
	ran := make(chan struct{})
	p.Push(&slow, func() { close(ran) })
	if n := slow.Pending(); n != 1 {
		t.Fatalf("blocked queue has %d waiting tasks, want 1", n)
	}
	select {
	case <-ran:
		t.Fatal("second task of a queue ran while the first was blocked")
	default:
	}
	close(release)
	recv(t, ran, "the task queued behind the blocking one")
}

// TestCapDefersInFIFOOrder: with every worker busy, Push returns at once, no new goroutine
// starts, and the waiting queues run in the order they became runnable when a worker frees.
func TestCapDefersInFIFOOrder(t *testing.T) {
	p, _, events := hooked(2)
	var a, b Queue
	sa, ra := blocker(p, &a)
	sb, rb := blocker(p, &b)
	recv(t, sa, "a")
	recv(t, sb, "b")
	order := make(chan int, 10)
	waiting := make([]Queue, 5)
	for i := range waiting {
		p.Push(&waiting[i], func() { order <- i }) // must not block: the test goroutine would hang
	}
	st := p.Stats()
	if st.Workers != 2 || st.Runnable != 5 || st.Deferred != 5 {
		t.Fatalf("at the cap: %+v, want 2 workers, 5 runnable, 5 deferred", st)
	}
	close(ra) // one worker frees up: it runs the waiting queues one after another
	for i := range waiting {
		if v := recv(t, order, "a deferred queue"); v != i {
			t.Fatalf("deferred queue %d ran in place %d", v, i)
		}
	}
	expect(t, events, hookParked, 1)
	if st := p.Stats(); st.Workers != 2 || st.Runnable != 0 || st.Parked != 1 {
		t.Fatalf("after the FIFO drained: %+v", st)
	}
	close(rb)
	expect(t, events, hookParked, 1)
	if st := p.Stats(); st.Workers != 2 || st.Parked != 2 {
		t.Fatalf("all idle: %+v", st)
	}
}

// TestRepushWhileRunning: a queue that gets tasks while it runs (from outside or from its
// own task) is not scheduled twice: the worker that runs it picks them up, in order.
func TestRepushWhileRunning(t *testing.T) {
	p, _, _ := hooked(1)
	var q Queue
	started, release := blocker(p, &q)
	recv(t, started, "the first task")
	got := make(chan int, 10)
	p.Push(&q, func() {
		got <- 1
		p.Push(&q, func() { got <- 3 }) // from its own task: after 2, which is already queued
	})
	p.Push(&q, func() { got <- 2 })
	if st := p.Stats(); st.Runnable != 0 || st.Deferred != 0 || st.Workers != 1 {
		t.Fatalf("a running queue was scheduled again: %+v", st)
	}
	close(release)
	for want := 1; want <= 3; want++ {
		if v := recv(t, got, "re-pushed task"); v != want {
			t.Fatalf("got task %d, want %d", v, want)
		}
	}
}

// TestBatchLetsWaitingQueuesIn: at the cap, a queue with a long backlog runs one batch, then
// goes behind the queues that wait; each queue keeps its own order.
func TestBatchLetsWaitingQueuesIn(t *testing.T) {
	p, _, _ := hooked(1)
	var a, b Queue
	started, release := blocker(p, &a)
	recv(t, started, "a's first task")
	type ran struct{ q, i int }
	got := make(chan ran, 4*batch+2)
	for i := 1; i < 2*batch; i++ {
		p.Push(&a, func() { got <- ran{0, i} })
	}
	for i := 0; i < 2*batch; i++ {
		p.Push(&b, func() { got <- ran{1, i} })
	}
	close(release)
	next := [2]int{1, 0}
	var seq []int
	for n := 0; n < 4*batch-1; n++ {
		r := recv(t, got, "a task")
		if r.i != next[r.q] {
			t.Fatalf("queue %d ran task %d, want %d", r.q, r.i, next[r.q])
		}
		next[r.q]++
		if len(seq) == 0 || seq[len(seq)-1] != r.q {
			seq = append(seq, r.q)
		}
	}
	// a: one batch (its blocked task + 63), b: one batch, a: the rest, b: the rest.
	if fmt.Sprint(seq) != "[0 1 0 1]" {
		t.Fatalf("queues ran in runs %v, want [0 1 0 1]", seq)
	}
}

// TestIdleExitAndReuse: a parked worker is reused, and exits when its idle timer fires.
func TestIdleExitAndReuse(t *testing.T) {
	p, expire, events := hooked(4)
	qs := make([]Queue, 3)
	var releases []chan struct{}
	for i := range qs {
		s, r := blocker(p, &qs[i])
		recv(t, s, "a blocking task")
		releases = append(releases, r)
	}
	for _, r := range releases {
		close(r)
	}
	expect(t, events, hookParked, 3)
	if st := p.Stats(); st.Workers != 3 || st.Parked != 3 {
		t.Fatalf("three idle workers: %+v", st)
	}
	done := make(chan struct{})
	p.Push(&qs[0], func() { close(done) })
	recv(t, done, "a task on a parked worker")
	expect(t, events, hookParked, 1)
	if st := p.Stats(); st.Workers != 3 {
		t.Fatalf("a parked worker was not reused: %+v", st)
	}
	for i := 3; i > 0; i-- {
		expire <- time.Time{}
		expect(t, events, hookExited, 1)
		if st := p.Stats(); st.Workers != i-1 || st.Parked != i-1 {
			t.Fatalf("after %d exits: %+v", 4-i, st)
		}
	}
	done = make(chan struct{})
	p.Push(&qs[1], func() { close(done) })
	recv(t, done, "a task after every worker left")
}

// TestNoLostWakeup makes the idle timer fire while a Push hands the parked worker a queue:
// the hook holds the worker just before its select until both are ready, so the select
// picks either at random. Whichever it takes, the task runs and the worker count is right.
func TestNoLostWakeup(t *testing.T) {
	p := NewPool(1, time.Hour)
	p.expire = make(chan time.Time, 1) // a fired timer whose value waits, as time.Timer's does
	events := make(chan hookEvent, 16)
	gate := make(chan struct{})
	p.hook = func(e hookEvent) {
		events <- e
		if e == hookParked {
			<-gate
		}
	}
	var q Queue
	rescued := 0
	const rounds = 200
	for i := 0; i < rounds; i++ {
		p.Push(&q, func() {})
		expect(t, events, hookParked, 1) // parked, held before its select
		done := make(chan struct{})
		p.Push(&q, func() { close(done) }) // handed over: in the worker's mailbox
		p.expire <- time.Time{}            // and the timer fired
		gate <- struct{}{}
		for settled := false; !settled; {
			switch recv(t, events, "the worker to settle") {
			case hookRescued:
				rescued++
			case hookParked: // it ran the task; make sure an expiry is there for it
				if len(p.expire) == 0 {
					p.expire <- time.Time{}
				}
				gate <- struct{}{}
			case hookExited:
				settled = true
			}
		}
		recv(t, done, "the task handed over as the timer fired")
		if st := p.Stats(); st.Workers != 0 || st.Parked != 0 || st.Runnable != 0 {
			t.Fatalf("round %d: %+v, want no worker left", i, st)
		}
	}
	if rescued == 0 {
		t.Fatalf("the select never took the timer first in %d rounds", rounds)
	}
	t.Logf("the timer won the select %d times of %d", rescued, rounds)
}

func BenchmarkPushRun(b *testing.B) {
	p := NewPool(64, time.Second)
	var q Queue
	var wg sync.WaitGroup
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		p.Push(&q, wg.Done)
	}
	wg.Wait()
}

// TestIdle: a pool is idle when no task runs and no queue waits for a worker, and only then.
func TestIdle(t *testing.T) {
	p, _, events := hooked(1)
	if !p.Idle() {
		t.Fatal("a new pool is not idle")
	}
	var a, b Queue
	started, release := blocker(p, &a)
	recv(t, started, "the blocking task")
	p.Push(&b, func() {}) // waits for the only worker
	if p.Idle() {
		t.Fatal("idle while a task runs and a queue waits")
	}
	close(release)
	expect(t, events, hookParked, 1)
	if !p.Idle() {
		t.Fatalf("not idle once the worker parked: %+v", p.Stats())
	}
}
