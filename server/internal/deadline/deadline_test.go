package deadline

import (
	"sync"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/allocs"
)

type rec struct {
	mu    sync.Mutex
	fired []int
	at    []time.Time
	done  chan struct{}
	want  int
}

type item struct {
	t  Timer
	id int
	r  *rec
}

func (it *item) Fire(now time.Time) {
	it.r.mu.Lock()
	defer it.r.mu.Unlock()
	it.r.fired = append(it.r.fired, it.id)
	it.r.at = append(it.r.at, now)
	if len(it.r.fired) == it.r.want {
		close(it.r.done)
	}
}

func newItems(r *rec, n int) []*item {
	items := make([]*item, n)
	for i := range items {
		items[i] = &item{id: i, r: r}
		items[i].t.Init(items[i])
	}
	return items
}

func TestFiresInDeadlineOrderNotBefore(t *testing.T) {
	w := New(1)
	defer w.Close()
	r := &rec{done: make(chan struct{}), want: 5}
	items := newItems(r, 6)
	start := time.Now()
	// Scheduled out of order; item 5 is rescheduled later, item 4 is stopped.
	order := []int{3, 0, 4, 2, 1, 5}
	for _, i := range order {
		w.Schedule(&items[i].t, start.Add(time.Duration(10+i*10)*time.Millisecond))
	}
	w.Schedule(&items[5].t, start.Add(200*time.Millisecond))
	if !w.Stop(&items[4].t) {
		t.Fatal("Stop of a scheduled timer returned false")
	}
	if w.Stop(&items[4].t) {
		t.Fatal("second Stop returned true")
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("fired %v", r.fired)
	}
	want := []int{0, 1, 2, 3, 5}
	for i, id := range want {
		if r.fired[i] != id {
			t.Fatalf("fired %v, want %v", r.fired, want)
		}
		deadline := start.Add(time.Duration(10+id*10) * time.Millisecond)
		if id == 5 {
			deadline = start.Add(200 * time.Millisecond)
		}
		if r.at[i].Before(deadline) {
			t.Fatalf("item %d fired at %v, before its deadline %v", id, r.at[i].Sub(start), deadline.Sub(start))
		}
	}
	if w.Len() != 0 {
		t.Fatalf("Len = %d after all fired", w.Len())
	}
}

func TestEarlierRescheduleRearms(t *testing.T) {
	w := New(2)
	defer w.Close()
	r := &rec{done: make(chan struct{}), want: 1}
	it := newItems(r, 1)[0]
	w.Schedule(&it.t, time.Now().Add(time.Hour))
	w.Schedule(&it.t, time.Now().Add(5*time.Millisecond))
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("rescheduling earlier did not re-arm the shard timer")
	}
}

func TestManyTimers(t *testing.T) {
	w := New(4)
	defer w.Close()
	const n = 5000
	r := &rec{done: make(chan struct{}), want: n}
	items := newItems(r, n)
	now := time.Now()
	for i, it := range items {
		w.Schedule(&it.t, now.Add(time.Duration(i%50)*time.Millisecond))
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d fired", len(r.fired), n)
	}
}

func TestScheduleDoesNotAllocate(t *testing.T) {
	w := New(1)
	defer w.Close()
	r := &rec{done: make(chan struct{})}
	items := newItems(r, 64)
	far := time.Now().Add(time.Hour)
	for _, it := range items {
		w.Schedule(&it.t, far)
	}
	i := 0
	allocs.MustNotAllocate(t, func() {
		w.Schedule(&items[i%64].t, far.Add(time.Duration(i)))
		i++
	})
}

func BenchmarkScheduleReschedule(b *testing.B) {
	w := New(1)
	defer w.Close()
	r := &rec{done: make(chan struct{})}
	items := newItems(r, 10000)
	far := time.Now().Add(time.Hour)
	for _, it := range items {
		w.Schedule(&it.t, far)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Schedule(&items[i%len(items)].t, far.Add(time.Duration(i)))
	}
}
