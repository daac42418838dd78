// Package serial runs tasks one after another per key (a socket, a client) on a shared,
// elastic set of goroutines, so a task may block without stalling any other key, tasks of
// one key never run concurrently and keep their order, and an idle key owns no goroutine.
//
// A Queue is a few words; a goroutine is attached to it only while it has tasks. Idle
// workers wait up to idleTimeout for the next queue before exiting, so bursts reuse them.
package serial

import (
	"sync"
	"time"
)

// Task is one unit of work.
type Task func()

// Queue orders the tasks of one key. The zero value is ready to use.
type Queue struct {
	mu      sync.Mutex
	running bool
	head    int32 // index of the next task; a queue never holds 2^31 tasks
	tasks   []Task
}

// Pool is the set of worker goroutines shared by all queues.
type Pool struct {
	ready chan *Queue
	idle  time.Duration
}

// NewPool returns a pool whose idle workers exit after idle.
func NewPool(idle time.Duration) *Pool {
	return &Pool{ready: make(chan *Queue), idle: idle}
}

// Push appends t to q and makes sure a worker runs q. Safe for concurrent use; never blocks
// on running tasks.
func (p *Pool) Push(q *Queue, t Task) {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if !start {
		return
	}
	select {
	case p.ready <- q: // an idle worker takes it
	default:
		go p.work(q)
	}
}

// Pending returns the number of tasks waiting or running in q.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks) - int(q.head)
}

func (p *Pool) work(q *Queue) {
	timer := time.NewTimer(p.idle)
	defer timer.Stop()
	for {
		q.drain()
		timer.Reset(p.idle)
		select {
		case q = <-p.ready:
		case <-timer.C:
			return
		}
	}
}

// drain runs q's tasks until none is left.
func (q *Queue) drain() {
	for {
		q.mu.Lock()
		if int(q.head) == len(q.tasks) {
			// Nothing of the queue stays with an idle socket: the next burst starts a new
			// slice (a few bytes), a thousand idle sockets keep none.
			q.tasks = nil
			q.head = 0
			q.running = false
			q.mu.Unlock()
			return
		}
		t := q.tasks[q.head]
		q.tasks[q.head] = nil
		q.head++
		q.mu.Unlock()
		t()
	}
}
