// Package serial runs tasks one after another per key (a socket, a client) on a shared,
// bounded set of goroutines, so a task may block without stalling any other key, tasks of
// one key never run concurrently and keep their order, and an idle key owns no goroutine.
//
// A Queue is a few words; a worker goroutine is attached to it only while it has tasks.
// A Pool starts workers on demand up to its maximum; a queue that becomes runnable while
// every worker is busy waits in the pool's FIFO of runnable queues (each queue at most once,
// so the FIFO never holds more entries than there are queues) and is taken by the next
// worker that finishes a queue. Idle workers wait up to the idle timeout for the next queue
// before exiting, so bursts reuse them and a quiet server keeps none.
//
// Threading: Push and the accessors are safe for concurrent use and never block on tasks;
// tasks run on worker goroutines. Lock order: Queue.mu, then Pool.mu (Push never holds both).
package serial

import (
	"sync"
	"time"
)

// Task is one unit of work.
type Task func()

// Queue orders the tasks of one key. The zero value is ready to use.
type Queue struct {
	mu sync.Mutex
	// running: a worker drains the queue, or the queue waits in the pool's FIFO for one.
	running bool
	head    int32 // index of the next task; a queue never holds 2^31 tasks
	tasks   []Task
	next    *Queue // link in the pool's FIFO of runnable queues; guarded by Pool.mu
}

// Pool is the set of worker goroutines shared by all queues.
type Pool struct {
	max  int
	idle time.Duration

	mu       sync.Mutex
	workers  int       // live worker goroutines
	parked   []*worker // idle workers, most recently parked last (it is reused first)
	runHead  *Queue    // FIFO of runnable queues waiting for a worker
	runTail  *Queue
	runLen   int
	deferred uint64 // queues that had to wait for a worker (the cap was reached)

	// Test hooks, set before the first Push: expire replaces the idle timer (a test sends
	// on it to make one parked worker time out); hook hears each worker park and exit.
	expire chan time.Time
	hook   func(hookEvent)
}

type hookEvent uint8

const (
	hookParked hookEvent = iota
	hookExited
	hookRescued // the idle timer fired as a Push handed the worker a queue
)

// worker is one goroutine's mailbox: Push hands it a queue while it is parked.
type worker struct {
	next chan *Queue // capacity 1: the hand-off never blocks
}

// NewPool returns a pool of at most max workers (max < 1 means 1) whose idle workers exit
// after idle.
func NewPool(max int, idle time.Duration) *Pool {
	if max < 1 {
		max = 1
	}
	return &Pool{max: max, idle: idle}
}

// Push appends t to q and makes sure q will run: on a parked worker, on a new worker while
// fewer than max exist, or else after the queues already waiting. Safe for concurrent use;
// it never blocks on running tasks (it takes two short locks).
func (p *Pool) Push(q *Queue, t Task) {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		p.schedule(q)
	}
}

// schedule gives a runnable queue to a worker, or queues it for the next free one.
func (p *Pool) schedule(q *Queue) {
	p.mu.Lock()
	if n := len(p.parked); n > 0 {
		w := p.parked[n-1]
		p.parked[n-1] = nil
		p.parked = p.parked[:n-1]
		w.next <- q // buffered, and the worker holds no other queue: never blocks
		p.mu.Unlock()
		return
	}
	if p.workers < p.max {
		p.workers++
		p.mu.Unlock()
		go p.work(q)
		return
	}
	p.pushLocked(q)
	p.deferred++
	p.mu.Unlock()
}

// pushLocked appends q to the FIFO of runnable queues. Caller holds p.mu.
func (p *Pool) pushLocked(q *Queue) {
	if p.runTail == nil {
		p.runHead = q
	} else {
		p.runTail.next = q
	}
	p.runTail = q
	p.runLen++
}

// popLocked takes the oldest runnable queue, or nil. Caller holds p.mu.
func (p *Pool) popLocked() *Queue {
	q := p.runHead
	if q == nil {
		return nil
	}
	p.runHead, q.next = q.next, nil
	if p.runHead == nil {
		p.runTail = nil
	}
	p.runLen--
	return q
}

func (p *Pool) work(q *Queue) {
	w := &worker{next: make(chan *Queue, 1)}
	// One timer per worker goroutine (at most MaxHandlerWorkers), never per socket: it ends
	// the worker after idle.
	var timer *time.Timer
	if p.expire == nil {
		timer = time.NewTimer(p.idle)
		defer timer.Stop()
	}
	for {
		more := q.drain(batch)
		p.mu.Lock()
		if more {
			if p.runHead == nil {
				p.mu.Unlock()
				continue // nobody waits: keep going with q
			}
			p.pushLocked(q) // q keeps running = true, so it is in the FIFO once
		}
		if q = p.popLocked(); q != nil {
			p.mu.Unlock()
			continue
		}
		p.parked = append(p.parked, w)
		p.mu.Unlock()
		var expire <-chan time.Time = p.expire
		if timer != nil {
			timer.Reset(p.idle) // Go 1.23 timers: Reset discards a stale expiry
			expire = timer.C
		}
		p.notify(hookParked)
		select {
		case q = <-w.next:
		case <-expire:
			if p.leave(w) {
				p.notify(hookExited)
				return
			}
			q = <-w.next // handed a queue as the timer fired: it is in the buffer already
			p.notify(hookRescued)
		}
	}
}

func (p *Pool) notify(e hookEvent) {
	if p.hook != nil {
		p.hook(e)
	}
}

// leave unparks w for good, unless a Push already handed it a queue.
func (p *Pool) leave(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.parked {
		if x == w {
			p.parked = append(p.parked[:i], p.parked[i+1:]...)
			p.parked[len(p.parked):cap(p.parked)][0] = nil
			p.workers--
			return true
		}
	}
	return false
}

// Stats is a snapshot of a pool.
type Stats struct {
	Workers  int    // live worker goroutines
	Parked   int    // workers waiting for a queue
	Runnable int    // queues waiting for a worker
	Deferred uint64 // queues that waited for a worker since the pool started
}

// Stats returns a snapshot. Safe for concurrent use.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Workers: p.workers, Parked: len(p.parked), Runnable: p.runLen, Deferred: p.deferred}
}

// Idle reports whether no task runs or waits: every worker is parked and no queue waits
// for one. Safe for concurrent use.
func (p *Pool) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers == len(p.parked) && p.runLen == 0
}

// Pending returns the number of tasks waiting in q (a running task is no longer counted). Safe for concurrent use.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks) - int(q.head)
}

// batch is how many tasks a worker runs from one queue before it lets a waiting queue go
// first: with every worker busy, a socket that keeps receiving events must not hold its
// worker while other sockets' queues wait (64 = the default inbound bound of a client, so a
// full client queue is one batch).
const batch = 64

// drain runs up to n of q's tasks and reports whether tasks are left; when none is left,
// q is no longer running.
func (q *Queue) drain(n int) bool {
	for ; n > 0; n-- {
		q.mu.Lock()
		if int(q.head) == len(q.tasks) {
			// Nothing of the queue stays with an idle socket: the next burst starts a new
			// slice (a few bytes), a thousand idle sockets keep none.
			q.tasks = nil
			q.head = 0
			q.running = false
			q.mu.Unlock()
			return false
		}
		t := q.tasks[q.head]
		q.tasks[q.head] = nil
		q.head++
		q.mu.Unlock()
		t()
	}
	return true
}
