package serial

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOrderPerQueueAndNoStall(t *testing.T) {
	p := NewPool(50 * time.Millisecond)
	var slow, fast Queue
	release := make(chan struct{})
	var got []int
	var mu sync.Mutex
	done := make(chan struct{})
	p.Push(&slow, func() { <-release }) // blocks its queue only
	for i := 0; i < 100; i++ {
		i := i
		p.Push(&fast, func() {
			mu.Lock()
			got = append(got, i)
			n := len(got)
			mu.Unlock()
			if n == 100 {
				close(done)
			}
		})
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a blocked queue stalled another queue")
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("order broken at %d: %v", i, got[:i+1])
		}
	}
	var ran atomic.Bool
	p.Push(&slow, func() { ran.Store(true) })
	time.Sleep(20 * time.Millisecond)
	if ran.Load() {
		t.Fatal("second task of a queue ran while the first was blocked")
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for !ran.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !ran.Load() || slow.Pending() != 0 {
		t.Fatal("queued task did not run after the blocking one returned")
	}
}

func BenchmarkPushRun(b *testing.B) {
	p := NewPool(time.Second)
	var q Queue
	var wg sync.WaitGroup
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		p.Push(&q, wg.Done)
	}
	wg.Wait()
}
